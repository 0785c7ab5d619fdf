// TypeDoc plugin: documents the ts-proto output of packages/protocol/src/gen, which has no
// comments because the .proto files carry none. Each generated declaration without a comment gets
// one naming its protobuf message, enum or helper and the .proto file it comes from, so the API
// reference stays complete while hand-written code must still document itself.
import { Comment, Converter, ReflectionKind } from "typedoc";

const GENERATED = /\/packages\/protocol\/src\/gen\/(.+)\.ts$/;

const HELPERS = {
  MessageFns: "The codec every generated message exports: binary `encode`/`decode`, `create` and `fromPartial`.",
  DeepPartial: "A message with any field, at any depth, left out (missing fields take their protobuf defaults).",
  Exact: "Restricts `fromPartial` input to the fields the message declares.",
  Builtin: "Types `DeepPartial` leaves whole.",
  KeysOfUnion: "The keys of every member of a union.",
};

const MEMBER_HELPERS = {
  encode: "Writes the message in protobuf binary form.",
  decode: "Reads a message from protobuf binary form.",
  create: "A message with every field defaulted, then `base` applied.",
  fromPartial: "A message from a partial object; missing fields take their protobuf defaults.",
};

function text(value) {
  return new Comment([{ kind: "text", text: value }]);
}

/** `macp/modes/decision/v1/decision` → proto package `macp.modes.decision.v1` and its .proto path. */
function protoOrigin(relative) {
  const parts = relative.split("/");
  return { pkg: parts.slice(0, -1).join("."), file: `proto/${relative}.proto` };
}

function describe(reflection, origin) {
  const name = reflection.name;
  if (HELPERS[name]) return HELPERS[name];
  const protoName = `${origin.pkg}.${name.replaceAll("_", ".")}`;
  if (reflection.kindOf(ReflectionKind.Interface)) return `The \`${protoName}\` protobuf message (\`${origin.file}\`).`;
  if (reflection.kindOf(ReflectionKind.Variable)) {
    return `Codec of the \`${protoName}\` message: \`encode\`, \`decode\`, \`create\` and \`fromPartial\`.`;
  }
  if (reflection.kindOf(ReflectionKind.Enum)) return `The \`${protoName}\` protobuf enum (\`${origin.file}\`).`;
  if (reflection.kindOf(ReflectionKind.Method) && reflection.parent?.name === "MessageFns") {
    return MEMBER_HELPERS[name] ?? `Generated from \`${origin.file}\`.`;
  }
  return `Generated from \`${origin.file}\`.`;
}

/** @param {import("typedoc").Application} app */
export function load(app) {
  const generated = new Map();
  app.converter.on(Converter.EVENT_CREATE_DECLARATION, (context, reflection) => {
    const symbol = context.getSymbolFromReflection(reflection);
    const fileName = symbol?.declarations?.[0]?.getSourceFile().fileName;
    const match = fileName === undefined ? null : GENERATED.exec(fileName);
    if (match) generated.set(reflection, protoOrigin(match[1]));
  });
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, () => {
    for (const [reflection, origin] of generated) {
      const comment = describe(reflection, origin);
      const signatures = reflection.signatures ?? [];
      if (signatures.length > 0) {
        for (const signature of signatures) if (!signature.hasComment()) signature.comment = text(comment);
      } else if (!reflection.hasComment()) {
        reflection.comment = text(comment);
      }
    }
  });
}

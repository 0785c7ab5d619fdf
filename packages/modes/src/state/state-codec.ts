import type { JsonValue } from "@macp/policy";
import type { StateObject } from "./state-json.js";

/**
 * Moves a mode's state between its typed, structurally shared form (what `apply` works on) and
 * the plain JSON the kernel stores, hashes and shows. `json` hands out a view whose top-level
 * fields build the canonical document only when first read (a snapshot, a state hash, GetSession),
 * and remembers the typed state behind it, so the next `apply` on that view reads it back in O(1)
 * instead of parsing the whole document. Any other JSON (a snapshot read back, a test's literal)
 * is parsed.
 */
export class StateCodec<T> {
  private readonly typed = new WeakMap<object, T>();
  private readonly documents = new WeakMap<object, StateObject>();
  private readonly descriptors: PropertyDescriptorMap;
  private readonly parse: (json: JsonValue) => T;
  private readonly write: (state: T) => StateObject;

  /**
   * @param keys The document's top-level keys in canonical order (the order `write` produces).
   */
  constructor(keys: readonly string[], parse: (json: JsonValue) => T, write: (state: T) => StateObject) {
    this.parse = parse;
    this.write = write;
    const document = (view: object): StateObject => this.document(view);
    this.descriptors = Object.fromEntries(
      keys.map((key) => [
        key,
        {
          enumerable: true,
          get(this: object): JsonValue | undefined {
            return document(this)[key];
          },
        },
      ]),
    );
  }

  private document(view: object): StateObject {
    let document = this.documents.get(view);
    if (document === undefined) {
      document = this.write(this.typed.get(view) as T);
      this.documents.set(view, document);
    }
    return document;
  }

  /** The typed state behind `json`: remembered for views this codec made, parsed otherwise. */
  read(json: JsonValue): T {
    if (json !== null && typeof json === "object") {
      const known = this.typed.get(json);
      if (known !== undefined) return known;
    }
    return this.parse(json);
  }

  /** A JSON view of `state`, serialized on first read of any of its fields. */
  json(state: T): JsonValue {
    const view = Object.defineProperties({}, this.descriptors) as StateObject;
    this.typed.set(view, state);
    return view;
  }
}

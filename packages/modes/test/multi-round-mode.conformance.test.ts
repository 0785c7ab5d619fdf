import { describe, it } from "vitest";
import { multiRoundMode } from "../src/index.js";
import { loadVector, runVector, runtimeCopy, type Vector } from "./mode-conformance.js";

const FILES = ["multi_round_happy_path.json", "multi_round_reject_paths.json"];

/** Codes the vectors leave implicit, as the reference returns them (§15.2), by message index. */
const IMPLIED_CODES: Readonly<Record<string, readonly (string | undefined)[]>> = {
  "multi_round_reject_paths.json": ["INVALID_ENVELOPE", undefined, undefined, "FORBIDDEN"],
};

function withImpliedCodes(file: string, vector: Vector): Vector {
  const implied = IMPLIED_CODES[file] ?? [];
  return {
    ...vector,
    messages: vector.messages.map((message, index) => {
      const code = implied[index];
      return code === undefined || message.expected_error_code !== undefined ? message : { ...message, expected_error_code: code };
    }),
  };
}

/** §15.3: the reference runtime's copy leaves the coordinator out of the participants. */
function withoutInitiator(vector: Vector): Vector {
  return { ...vector, participants: vector.participants.filter((participant) => participant !== vector.initiator) };
}

describe("multi-round conformance vectors straight through the mode handler", () => {
  it.each(FILES)("%s (spec-repository copy, coordinator listed but silent)", (file) => {
    runVector(multiRoundMode, withImpliedCodes(file, loadVector(file)));
  });

  it.each(FILES)("%s (reference-runtime copy, §15.3)", (file) => {
    runVector(multiRoundMode, withImpliedCodes(file, withoutInitiator(runtimeCopy(loadVector(file)))));
  });
});

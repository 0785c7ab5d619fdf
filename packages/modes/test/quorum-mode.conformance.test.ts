import { describe, it } from "vitest";
import { quorumMode } from "../src/index.js";
import { loadVector, runVector, runtimeCopy, type Vector } from "./mode-conformance.js";

const FILES = ["quorum_happy_path.json"];

/** §15.3: the reference runtime's copy leaves the coordinator out of the participants. */
function withoutInitiator(vector: Vector): Vector {
  return { ...vector, participants: vector.participants.filter((participant) => participant !== vector.initiator) };
}

describe("quorum conformance vectors straight through the mode handler", () => {
  it.each(FILES)("%s (spec-repository copy)", (file) => {
    runVector(quorumMode, loadVector(file));
  });

  it.each(FILES)("%s (reference-runtime copy, §15.3)", (file) => {
    runVector(quorumMode, withoutInitiator(runtimeCopy(loadVector(file))));
  });
});

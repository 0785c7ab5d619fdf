import { describe, it } from "vitest";
import { proposalMode } from "../src/index.js";
import { loadVector, runVector, runtimeCopy } from "./mode-conformance.js";

const FILES = ["proposal_happy_path.json", "proposal_reject_paths.json"];

describe("proposal conformance vectors straight through the mode handler", () => {
  it.each(FILES)("%s (spec-repository copy)", (file) => {
    runVector(proposalMode, loadVector(file));
  });

  it.each(FILES)("%s (reference-runtime copy, §15.3)", (file) => {
    runVector(proposalMode, runtimeCopy(loadVector(file)));
  });
});

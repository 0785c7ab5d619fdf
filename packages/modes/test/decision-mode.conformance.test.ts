import { describe, it } from "vitest";
import { decisionMode } from "../src/index.js";
import { loadVector, runVector, runtimeCopy } from "./mode-conformance.js";

const FILES = ["decision_happy_path.json", "decision_reject_paths.json"];

describe("decision conformance vectors straight through the mode handler", () => {
  it.each(FILES)("%s (spec-repository copy)", (file) => {
    runVector(decisionMode, loadVector(file));
  });

  it.each(FILES)("%s (reference-runtime copy, §15.3)", (file) => {
    runVector(decisionMode, runtimeCopy(loadVector(file)));
  });
});

import { describe, it } from "vitest";
import { handoffMode } from "../src/index.js";
import { loadVector, runVector, runtimeCopy } from "./mode-conformance.js";

const FILES = ["handoff_happy_path.json"];

describe("handoff conformance vectors straight through the mode handler", () => {
  it.each(FILES)("%s (spec-repository copy)", (file) => {
    runVector(handoffMode, loadVector(file));
  });

  it.each(FILES)("%s (reference-runtime copy, §15.3)", (file) => {
    runVector(handoffMode, runtimeCopy(loadVector(file)));
  });
});

import { describe, it } from "vitest";
import { taskMode } from "../src/index.js";
import { loadVector, runVector, runtimeCopy } from "./mode-conformance.js";

const FILES = ["task_happy_path.json", "task_reject_paths.json"];

describe("task conformance vectors straight through the mode handler", () => {
  it.each(FILES)("%s (spec-repository copy)", (file) => {
    runVector(taskMode, loadVector(file));
  });

  it.each(FILES)("%s (reference-runtime copy, §15.3)", (file) => {
    runVector(taskMode, runtimeCopy(loadVector(file)));
  });
});

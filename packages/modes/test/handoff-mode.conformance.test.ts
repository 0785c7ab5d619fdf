import { describe, it } from "vitest";
import { handoffMode } from "../src/index.js";
import { loadVector, runVector, runtimeCopy, type Vector } from "./mode-conformance.js";

const FILES = ["handoff_happy_path.json"];

describe("handoff conformance vectors straight through the mode handler", () => {
  it.each(FILES)("%s (spec-repository copy)", (file) => {
    runVector(handoffMode, loadVector(file));
  });

  it.each(FILES)("%s (reference-runtime copy, §15.3)", (file) => {
    runVector(handoffMode, runtimeCopy(loadVector(file)));
  });
});

/**
 * `handoff_reject_paths.json` is not in the shared set; this is the script §15.2 describes
 * (identical in both fixture copies): an accept before any offer, then a late context.
 */
const HANDOFF_REJECT_PATHS: Vector = {
  mode: "macp.mode.handoff.v1",
  initiator: "agent://owner",
  participants: ["agent://owner", "agent://target"],
  mode_version: "1.0.0",
  configuration_version: "cfg-1",
  policy_version: "",
  ttl_ms: 60000,
  messages: [
    { sender: "agent://target", message_type: "HandoffAccept", payload: { handoff_id: "h1", accepted_by: "agent://target" }, expect: "reject", expected_error_code: "INVALID_ENVELOPE" },
    { sender: "agent://owner", message_type: "HandoffOffer", payload: { handoff_id: "h1", target_participant: "agent://target", scope: "support" }, expect: "accept" },
    { sender: "agent://target", message_type: "HandoffAccept", payload: { handoff_id: "h1", accepted_by: "agent://target" }, expect: "accept" },
    { sender: "agent://owner", message_type: "HandoffContext", payload: { handoff_id: "h1", content_type: "text/plain", context: "late notes" }, expect: "accept" },
  ],
  expected_final_state: "Open",
  expected_mode_state: { offers: { h1: { disposition: "Accepted" } } },
};

describe("handoff reject paths as described by the digest (§15.2)", () => {
  it("rejects the early accept and accepts late context", () => {
    runVector(handoffMode, HANDOFF_REJECT_PATHS);
  });
});

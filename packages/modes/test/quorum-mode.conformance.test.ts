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

/**
 * `quorum_reject_paths.json` is not in the shared set; this is the script §15.2 describes, with
 * the codes the reference returns where the fixture leaves them implicit.
 */
const QUORUM_REJECT_PATHS: Vector = {
  mode: "macp.mode.quorum.v1",
  initiator: "agent://coordinator",
  participants: ["agent://coordinator", "agent://alice", "agent://bob", "agent://carol"],
  mode_version: "1.0.0",
  configuration_version: "cfg-1",
  policy_version: "",
  ttl_ms: 60000,
  messages: [
    { sender: "agent://alice", message_type: "Approve", payload: { request_id: "r1", reason: "early" }, expect: "reject", expected_error_code: "INVALID_ENVELOPE" },
    { sender: "agent://coordinator", message_type: "ApprovalRequest", payload: { request_id: "r1", action: "deploy", summary: "Deploy v2", details: [], required_approvals: 2 }, expect: "accept" },
    { sender: "agent://alice", message_type: "Approve", payload: { request_id: "r1", reason: "lgtm" }, expect: "accept" },
    {
      sender: "agent://coordinator",
      message_type: "Commitment",
      payload: { commitment_id: "c1", action: "quorum.approved", authority_scope: "test", reason: "done", mode_version: "1.0.0", policy_version: "", configuration_version: "cfg-1" },
      expect: "reject",
      expected_error_code: "INVALID_ENVELOPE",
    },
  ],
  expected_final_state: "Open",
  expected_mode_state: { ballots: { "agent://alice": { choice: "Approve" } } },
};

describe("quorum reject paths as described by the digest (§15.2)", () => {
  it.each([
    ["spec-repository participants", QUORUM_REJECT_PATHS],
    ["reference-runtime participants", withoutInitiator(runtimeCopy(QUORUM_REJECT_PATHS))],
  ])("rejects the early ballot and the premature Commitment (%s)", (_name, vector) => {
    runVector(quorumMode, vector);
  });
});

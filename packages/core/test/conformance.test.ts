import { describe, expect, it } from "vitest";
import { CommitmentPayload, PolicyDescriptor } from "@macp/protocol";
import { replayLog, serializeSessionState } from "@macp/core/internal";
import { resolutionBytes } from "../src/session-machine.js";
import {
  camelKeys,
  conformancePayload,
  containmentMismatch,
  createHarness,
  envelope,
  loadConformanceCases,
  newSessionId,
  sessionStart,
} from "./support.js";

describe("conformance vectors through the kernel (in-process)", () => {
  it.each(loadConformanceCases())("%s", async (_name, vector) => {
    const { kernel, store, modes } = createHarness();
    if (vector.policy) {
      const registered = await kernel.registerPolicy(
        PolicyDescriptor.fromPartial({
          policyId: vector.policy.policy_id,
          mode: vector.policy.mode,
          description: vector.policy.description ?? "",
          rules: JSON.stringify(vector.policy.rules),
          schemaVersion: vector.policy.schema_version,
        }),
      );
      expect(registered).toEqual({ ok: true, error: "" });
    }
    const sessionId = newSessionId();
    const start = await kernel.send(
      sessionStart(
        sessionId,
        vector.mode,
        vector.initiator,
        {
          intent: "conformance",
          participants: vector.participants,
          modeVersion: vector.mode_version,
          configurationVersion: vector.configuration_version,
          policyVersion: vector.policy_version,
          ttlMs: BigInt(vector.ttl_ms),
        },
        "m0",
      ),
      { sender: vector.initiator },
    );
    expect(start.error?.message).toBeUndefined();
    expect(start.ok).toBe(true);

    for (const [index, message] of vector.messages.entries()) {
      const outcome = await kernel.send(
        envelope({
          sessionId,
          mode: vector.mode,
          messageType: message.message_type,
          messageId: `m${index + 1}`,
          sender: message.sender,
          payload: conformancePayload(vector.mode, message),
        }),
        { sender: message.sender },
      );
      const label = `message ${index + 1} (${message.message_type} from ${message.sender})`;
      if (message.expect === "accept") {
        expect(outcome.error?.message, label).toBeUndefined();
        expect(outcome.ok, label).toBe(true);
      } else {
        expect(outcome.ok, label).toBe(false);
        if (message.expected_error_code) expect(outcome.error?.code, label).toBe(message.expected_error_code);
      }
    }

    const info = kernel.peekSession(sessionId);
    expect(info?.record.status).toBe(vector.expected_final_state);
    if (vector.expected_resolution) {
      const bytes = info ? resolutionBytes(info.record) : undefined;
      expect(bytes).toBeDefined();
      const resolution = CommitmentPayload.decode(bytes ?? new Uint8Array());
      expect(containmentMismatch(resolution, camelKeys(vector.expected_resolution))).toBeUndefined();
    }
    if (vector.expected_mode_state !== undefined) {
      expect(containmentMismatch(info?.record.modeState, vector.expected_mode_state)).toBeUndefined();
    }

    const replayed = replayLog(modes, await store.loadLog(sessionId));
    const live = kernel.sessionState(sessionId);
    expect(live).toBeDefined();
    expect(serializeSessionState(replayed)).toBe(serializeSessionState(live ?? replayed));
  });
});

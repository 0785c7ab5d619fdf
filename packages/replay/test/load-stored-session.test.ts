import { describe, expect, it } from "vitest";
import { serializeSessionState } from "@macp/core/internal";
import { loadStoredSession } from "@macp/replay";
import { MemoryStore } from "@macp/storage";
import { createHarness, openDecision, sessionIdFor } from "./support.js";

describe("loadStoredSession", () => {
  it("rebuilds a stored session as the kernel holds it, and answers undefined for an id the store never saw", async () => {
    const store = new MemoryStore();
    const h = createHarness(store);
    const id = sessionIdFor(901);
    await openDecision(h, id);
    const loaded = await loadStoredSession(store, h.modes, id);
    expect(loaded).toBeDefined();
    const live = h.kernel.sessionState(id);
    expect(loaded && serializeSessionState(loaded)).toBe(live && serializeSessionState(live));
    expect(await loadStoredSession(store, h.modes, sessionIdFor(902))).toBeUndefined();
  });
});

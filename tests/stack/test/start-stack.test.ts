import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "@macp/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listening } from "./support/ports.js";
import { startStack } from "./support/stack.js";
import type { Stack } from "./support/stack.js";
import { waitFor } from "./support/wait.js";

describe("the one-command stack (scripts/start-stack.mjs)", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
    stack?.remove();
  });

  it("prints the URLs of the run viewer, the control plane, its docs, the runtime and its metrics", () => {
    expect(stack.controlPlaneUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(stack.output()).toMatch(new RegExp(`run viewer +${stack.controlPlaneUrl}/ `));
    expect(stack.output()).toContain(`${stack.controlPlaneUrl}/docs`);
    expect(stack.runtimeAddress).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(stack.runtimeMetricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
  });

  it("serves a ready control plane wired to the runtime, the docs and both metrics endpoints", { timeout: 90_000 }, async () => {
    const ready = await waitFor("/readyz 200", async () => {
      const response = await fetch(`${stack.controlPlaneUrl}/readyz`);
      return response.status === 200 ? ((await response.json()) as { runtime: { ok: boolean } }) : undefined;
    });
    expect(ready.runtime.ok).toBe(true);
    expect((await fetch(`${stack.controlPlaneUrl}/docs/json`)).status).toBe(200);
    const viewer = await fetch(`${stack.controlPlaneUrl}/`);
    expect(viewer.status).toBe(200);
    expect(await viewer.text()).toContain("MACP run viewer");
    expect(await (await fetch(stack.runtimeMetricsUrl)).text()).toContain("# TYPE");
  });

  it("launches a run through the control plane against the runtime, data under the one directory", { timeout: 90_000 }, async () => {
    const created = await fetch(`${stack.controlPlaneUrl}/runs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        mode: "live",
        runtime: { kind: "rust" },
        session: { modeName: "macp.mode.decision.v1", modeVersion: "1.0.0", configurationVersion: "cfg-1", ttlMs: 60_000, participants: [{ id: "alice" }, { id: "bob" }] },
        kickoff: [{ from: "alice", to: ["bob"], kind: "proposal", messageType: "Proposal", payload: { proposal_id: "p1", option: "deploy", rationale: "ready" } }],
      }),
    });
    expect(created.status).toBe(201);
    const { runId } = (await created.json()) as { runId: string };
    const run = await waitFor(`run ${runId} running`, async () => {
      const body = (await (await fetch(`${stack.controlPlaneUrl}/runs/${runId}`)).json()) as { status: string };
      if (body.status === "failed") throw new Error(`run failed: ${JSON.stringify(body)}`);
      return body.status === "running" ? body : undefined;
    });
    expect(run.status).toBe("running");
    expect(existsSync(join(stack.dataDir, "runtime"))).toBe(true);
    expect(existsSync(join(stack.dataDir, "control-plane"))).toBe(true);
  });

  it("`pnpm demo` (scripts/demo.mjs) drives a decision, a task and a quorum run to completion with simulated agents", { timeout: 150_000 }, async () => {
    const demo = spawn(process.execPath, [join(REPO_ROOT, "scripts/demo.mjs")], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? "", MACP_CONTROL_PLANE_URL: stack.controlPlaneUrl, MACP_RUNTIME_ADDRESS: stack.runtimeAddress, MACP_DEMO_STEP_MS: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    demo.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    demo.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise((resolve) => demo.on("exit", resolve));
    expect(code, output).toBe(0);

    const runs = [...output.matchAll(/ (decision|task|quorum) +run (\S+)$/gm)].map((match) => ({ scenario: match[1], runId: match[2] }));
    expect(runs.map((run) => run.scenario).sort()).toEqual(["decision", "task", "quorum"].sort());
    for (const { runId } of runs) {
      expect(output).toContain(`${stack.controlPlaneUrl}/runs/${runId}/state`);
      expect(output).toContain(`${stack.controlPlaneUrl}/runs/${runId}/stream`);
    }
    const states = Object.fromEntries(
      await Promise.all(
        runs.map(async ({ scenario, runId }) => {
          const run = (await (await fetch(`${stack.controlPlaneUrl}/runs/${runId}`)).json()) as { status: string };
          expect(run.status, scenario).toBe("completed");
          const events = (await (await fetch(`${stack.controlPlaneUrl}/runs/${runId}/events?limit=1000`)).json()) as { data: { type: string; data: { messageType?: string } }[] };
          const received = events.data.filter((event) => event.type === "message.received").map((event) => event.data.messageType);
          return [scenario, received] as const;
        }),
      ),
    );
    expect(states).toEqual({
      decision: ["SessionStart", "Proposal", "Vote", "Commitment"],
      task: ["SessionStart", "TaskRequest", "TaskAccept", "TaskUpdate", "TaskComplete", "Commitment"],
      quorum: ["SessionStart", "ApprovalRequest", expect.any(String), expect.any(String), expect.any(String), "Commitment"],
    });
  });

  it("stops everything on SIGTERM: exit 0 and nothing left listening", { timeout: 60_000 }, async () => {
    const { code, signal } = await stack.stop();
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(stack.output()).not.toMatch(/stopped unexpectedly/);
    for (const address of [stack.controlPlaneUrl, stack.runtimeAddress, stack.runtimeMetricsUrl]) {
      expect(await listening(address)).toBe(false);
    }
  });
});

import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "@macp/test-support";
import { chromium } from "playwright-core";
import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Agents, DECISION_MODE, commitment } from "./support/agents.js";
import { chromiumPath } from "./support/chromium.js";
import { freePort, startControlPlane, startRuntime } from "./support/processes.js";
import type { Service } from "./support/processes.js";

/** The README shows these; every run of this file renews them. */
const SCREENSHOTS = join(REPO_ROOT, "docs/screenshots");
const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
// While the control plane is down the page's reconnect attempts fail; the browser logs each one.
const CONNECTION_FAILURE = /ERR_CONNECTION_REFUSED|ERR_CONNECTION_RESET|ERR_EMPTY_RESPONSE|ERR_INCOMPLETE_CHUNKED_ENCODING/;

interface ApiEvent {
  seq: number;
  type: string;
  data: { messageType?: string };
}

interface StateAt {
  version: number;
  run: { status: string };
  timeline: { totalEvents: number };
  decision: { current?: { action: string } };
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe("the run viewer in Chromium against a real control plane and runtime", () => {
  let runtime: Service | undefined;
  let controlPlane: Service | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let agents: Agents | undefined;
  let port: number;
  let dataDir: string;
  let runId: string;
  let sessionId: string;
  let forkId: string;
  let restarting = false;
  const consoleErrors: string[] = [];
  const failuresDuringRestart: string[] = [];
  const base = (): string => `http://127.0.0.1:${port}`;

  async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${base()}${path}`, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? null : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return JSON.parse(text) as T;
  }

  const events = async (id: string): Promise<ApiEvent[]> => (await api<{ data: ApiEvent[] }>("GET", `/runs/${id}/events?afterSeq=0&limit=1000`)).data;
  const messageSeq = (list: ApiEvent[], messageType: string): number => {
    const event = list.find((candidate) => candidate.type === "message.received" && candidate.data.messageType === messageType);
    if (!event) throw new Error(`no accepted ${messageType} among ${list.length} events`);
    return event.seq;
  };
  const pageSeqs = (): Promise<number[]> => page.locator(".timeline li.event").evaluateAll((items) => items.map((item) => Number(item.getAttribute("data-seq"))).reverse());
  // Evaluated in the page (this file is typed without the DOM library).
  const focusedLabel = (): Promise<unknown> => page.evaluate("document.activeElement?.getAttribute('aria-label') ?? null");

  beforeAll(async () => {
    const executablePath = chromiumPath();
    runtime = await startRuntime();
    port = await freePort();
    dataDir = mkdtempSync(join(tmpdir(), "macp-viewer-"));
    controlPlane = await startControlPlane(port, dataDir, runtime.address);
    agents = new Agents(runtime.address, DECISION_MODE);
    browser = await chromium.launch({ executablePath, args: ["--no-sandbox", "--disable-dev-shm-usage"] });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(90_000);
    page.on("console", (message) => {
      if (message.type() !== "error") return;
      const text = `${message.text()} (${message.location().url})`;
      if (restarting && CONNECTION_FAILURE.test(text)) failuresDuringRestart.push(text);
      else consoleErrors.push(text);
    });
    page.on("pageerror", (error) => consoleErrors.push(`uncaught: ${error.message}`));
    mkdirSync(SCREENSHOTS, { recursive: true });
  }, 600_000);

  afterEach(() => {
    // Every test fails on any console error the page logged meanwhile.
    expect(consoleErrors.splice(0)).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    agents?.close();
    await controlPlane?.stop();
    await runtime?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it("a live decision run appears in the list, grows on its page, survives a control-plane restart without a gap and completes", { timeout: 400_000 }, async () => {
    await page.goto(`${base()}/`);
    await page.getByRole("heading", { name: "Runs" }).waitFor();

    const created = await api<{ runId: string; sessionId: string }>("POST", "/runs", {
      mode: "live",
      runtime: { kind: "rust" },
      session: {
        modeName: DECISION_MODE,
        modeVersion: "1.0.0",
        configurationVersion: "cfg-1",
        ttlMs: 600_000,
        participants: [{ id: "alice", role: "lead" }, { id: "bob", role: "reviewer" }],
        metadata: { intent: "choose the release day" },
      },
      kickoff: [{ from: "alice", to: ["bob"], kind: "proposal", messageType: "Proposal", payload: { proposal_id: "p1", option: "release v2 on Thursday", rationale: "all checks are green" } }],
      execution: { tags: ["browser-test", "decision"] },
    });
    ({ runId, sessionId } = created);

    // The list refreshes itself: the new run shows up and turns running without a reload.
    const row = page.locator(`tr[data-run-id="${runId}"]`);
    await row.waitFor();
    await page.locator(`tr[data-run-id="${runId}"][data-status="running"]`).waitFor();
    await expect(row.textContent()).resolves.toContain("alice, bob");
    await page.screenshot({ path: join(SCREENSHOTS, "runs-list.png") });

    // Keyboard only: Tab to the run's link and open it with Enter.
    for (let presses = 0; presses < 60 && (await focusedLabel()) !== `run ${runId}`; presses += 1) await page.keyboard.press("Tab");
    await expect(focusedLabel()).resolves.toBe(`run ${runId}`);
    await page.keyboard.press("Enter");
    await page.waitForURL(new RegExp(`/ui/runs/${runId}$`));
    await page.locator(".stream-live").waitFor();
    await page.locator(".timeline li.event", { hasText: "alice → bob: Proposal" }).waitFor();
    await page.locator('g.edge[data-from="alice"][data-to="bob"]').waitFor();

    // bob evaluates while the page watches: the graph and the decision view grow.
    await agents!.send("bob", sessionId, "Evaluation", { proposal_id: "p1", recommendation: "approve", confidence: 0.9, reason: "support is staffed" });
    await page.locator(".timeline li.event", { hasText: "bob → all: Evaluation" }).waitFor();
    await page.locator('g.edge[data-from="bob"][data-to="(session)"]').waitFor();
    await page.locator(".mode .reply", { hasText: "support is staffed" }).waitFor();

    // The control plane stops (SIGTERM) and comes back on the same port; bob votes meanwhile.
    restarting = true;
    expect(await controlPlane!.stop()).toBe(0);
    await page.locator(".stream-reconnecting").waitFor();
    await agents!.send("bob", sessionId, "Vote", { proposal_id: "p1", vote: "approve", reason: "Thursday works" });
    controlPlane = await startControlPlane(port, dataDir, runtime!.address);
    await page.locator(".stream-live").waitFor();
    await page.locator(".timeline li.event", { hasText: "bob → all: Vote" }).waitFor();
    restarting = false;

    // Caught up without a gap or a duplicate: the page holds exactly the stored events.
    await waitFor("the page's timeline to equal the stored events", async () => {
      const [stored, shown] = await Promise.all([events(runId), pageSeqs()]);
      return JSON.stringify(shown) === JSON.stringify(stored.map((event) => event.seq)) ? true : undefined;
    });

    await agents!.send("alice", sessionId, "Commitment", commitment("decision.selected"));
    await page.locator(".run-header .badge.status-completed").waitFor();
    await page.locator(".stream-ended").waitFor();
    await expect(page.locator(".policy .commitment").textContent()).resolves.toContain("decision.selected");
    await expect(page.locator(".policy .verdict").textContent()).resolves.toContain("allow");
    await expect(page.locator(".policy .outcome").textContent()).resolves.toContain("completed");
    const [stored, shown] = await Promise.all([events(runId), pageSeqs()]);
    expect(shown).toEqual(stored.map((event) => event.seq));
    expect(stored.map((event) => event.type)).toContain("run.completed");
    await page.screenshot({ path: join(SCREENSHOTS, "run-live.png"), fullPage: true });

    await page.getByRole("link", { name: "Runs", exact: true }).click();
    await page.locator(`tr[data-run-id="${runId}"][data-status="completed"]`).waitFor();
  });

  it("the replay scrubber shows the state the control plane folds at three seqs", { timeout: 200_000 }, async () => {
    const stored = await events(runId);
    const seqs = stored.map((event) => event.seq);
    const checks: number[] = [];
    const expectStateAt = async (seq: number): Promise<void> => {
      const expected = await api<StateAt>("GET", `/runs/${runId}/replay/state?seq=${seq}`);
      await page.locator(".scrub-seq", { hasText: new RegExp(`^${seq}$`) }).waitFor();
      await page.locator('[data-fact="version"]', { hasText: new RegExp(`^${expected.version}$`) }).waitFor();
      await expect(page.locator('[data-fact="status"]').textContent()).resolves.toBe(expected.run.status);
      await expect(page.locator('[data-fact="events"]').textContent()).resolves.toBe(String(expected.timeline.totalEvents));
      await expect(page.locator('[data-fact="decision"]').textContent()).resolves.toBe(expected.decision.current?.action ?? "none");
      // Nothing after the position is shown.
      expect(Math.max(...(await pageSeqs()))).toBe(seq);
      checks.push(seq);
    };

    // 1: straight to a seq by URL — just after the Proposal, before anyone answered.
    const proposal = messageSeq(stored, "Proposal");
    await page.goto(`${base()}/ui/runs/${runId}/replay?seq=${proposal}`);
    await expectStateAt(proposal);
    await expect(page.locator('g.edge[data-from="bob"]').count()).resolves.toBe(0);

    // 2: the slider moved to the Vote.
    const vote = messageSeq(stored, "Vote");
    await page.getByRole("slider").fill(String(seqs.indexOf(vote)));
    await expectStateAt(vote);
    await page.locator('g.edge[data-from="bob"][data-to="(session)"]').waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, "replay.png"), fullPage: true });

    // 3: keyboard End on the slider, then one step back with the button.
    await page.getByRole("slider").focus();
    await page.keyboard.press("End");
    await expectStateAt(seqs.at(-1)!);
    await page.getByRole("button", { name: "Step back" }).click();
    await expectStateAt(seqs.at(-2)!);

    // Play at 10× runs to the end.
    await page.getByRole("slider").fill(String(seqs.indexOf(vote)));
    await page.locator(".scrub-seq", { hasText: new RegExp(`^${vote}$`) }).waitFor();
    await page.getByLabel("Speed").selectOption("10");
    await page.getByRole("button", { name: "▶ Play" }).click();
    await page.getByRole("button", { name: "▶ Play" }).waitFor();
    await expectStateAt(seqs.at(-1)!);
    expect(new Set(checks).size).toBeGreaterThanOrEqual(3);
  });

  it("fork from here creates a new run that continues from that seq, and it can be cancelled", { timeout: 200_000 }, async () => {
    const stored = await events(runId);
    const proposal = messageSeq(stored, "Proposal");
    await page.goto(`${base()}/ui/runs/${runId}/replay?seq=${proposal}`);
    await page.locator(".scrub-seq", { hasText: new RegExp(`^${proposal}$`) }).waitFor();
    await page.getByRole("button", { name: `Fork from seq ${proposal}` }).click();
    await page.waitForURL(new RegExp(`/ui/runs/${UUID}$`));
    forkId = new URL(page.url()).pathname.split("/").at(-1)!;
    expect(forkId).not.toBe(runId);

    const fork = await api<{ tags: string[]; metadata: { executionRequest: { session: { metadata: { forkOf: unknown } } } } }>("GET", `/runs/${forkId}`);
    expect(fork.tags).toContain("fork");
    expect(fork.metadata.executionRequest.session.metadata.forkOf).toEqual({ runId, atSeq: proposal });
    // The fork re-sent the SessionStart and the Proposal, nothing after them.
    await page.locator(".timeline li.event", { hasText: "alice → bob: Proposal" }).waitFor();
    await page.locator(".run-header .badge.status-running").waitFor();
    expect((await events(forkId)).filter((event) => event.type === "message.received").map((event) => event.data.messageType)).toEqual(["SessionStart", "Proposal"]);

    await page.getByRole("button", { name: "Cancel run" }).click();
    await page.locator(".run-header .badge.status-cancelled").waitFor();
    await waitFor("the fork to be cancelled", async () => ((await api<{ status: string }>("GET", `/runs/${forkId}`)).status === "cancelled" ? true : undefined));
  });

  it("compares the run and its fork side by side, and every page fits a 390 px screen", { timeout: 200_000 }, async () => {
    await page.goto(`${base()}/ui/compare?left=${runId}&right=${forkId}`);
    await page.getByRole("heading", { name: "Differences" }).waitFor();
    await expect(page.locator(".compare-side").count()).resolves.toBe(2);
    await expect(page.locator(".compare-page").textContent()).resolves.toContain("completed vs cancelled");

    await page.setViewportSize({ width: 390, height: 844 });
    const pages: [string, string][] = [
      ["/", `tr[data-run-id="${runId}"]`],
      [`/ui/runs/${runId}`, ".stream-ended"],
      [`/ui/runs/${runId}/replay`, '[data-fact="decision"]:not(:text("…"))'],
      [`/ui/compare?left=${runId}&right=${forkId}`, ".compare-side"],
    ];
    for (const [path, loaded] of pages) {
      await page.goto(`${base()}${path}`);
      await page.locator(loaded).first().waitFor();
      const overflow = (await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")) as number;
      expect(overflow, `${path} scrolls sideways at 390 px`).toBeLessThanOrEqual(0);
    }
    await page.goto(`${base()}/ui/runs/${runId}`);
    await page.locator(".stream-ended").waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, "run-390.png"), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });
  });
});

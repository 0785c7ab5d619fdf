import { createHmac } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig, startControlPlane } from "../src/index.js";
import type { ControlPlaneHandle, WebhookClock } from "../src/index.js";
import { createLogger } from "../src/observability/logger.js";
import { BASE_ENV, DATABASE_KINDS, dropSchema, freshSchema, request, testDatabaseUrl } from "./support/harness.js";
import type { TestResponse } from "./support/harness.js";
import { endRun, seedRun } from "./support/seed-run.js";
import { waitFor } from "./support/wait.js";
import { WebhookReceiver } from "./support/webhook-receiver.js";

const SECRETS = ["whsec-first-0123456789abcdef", "whsec-rotated-0123456789abcdef", "whsec-other-0123456789abcdef"];
const KEYS = { hooks: "hooks-key-0123456789abcdef", reader: "reader-key-0123456789abcdef", admin: "admin-key-0123456789abcdef" };
const BASE_MS = 1_000;

/** Receiver-side verification, as in the README. */
function verify(secret: string, headers: Record<string, unknown>, body: string): boolean {
  const expected = `sha256=${createHmac("sha256", secret).update(`${String(headers["x-macp-timestamp"])}.${body}`).digest("hex")}`;
  return headers["x-macp-signature"] === expected;
}

describe.each(DATABASE_KINDS)("webhooks: secret, signature, outbox, retries, delivery log (%s)", (kind) => {
  let receiver: WebhookReceiver;
  let cp: ControlPlaneHandle;
  // A manual clock: retries become due when the test moves it, never by waiting.
  let now = Date.parse("2026-12-06T12:00:00.000Z");
  const clock: WebhookClock = { now: () => now, random: () => 0.5 };
  const logs: string[] = [];
  const responses: string[] = [];
  const schema = kind === "postgres" ? freshSchema() : undefined;
  const dataDir = kind === "pglite" ? mkdtempSync(join(tmpdir(), "cp-webhooks-")) : undefined;

  const start = async (): Promise<ControlPlaneHandle> => {
    const config = loadConfig({
      ...BASE_ENV,
      ...(schema !== undefined ? { DATABASE_URL: testDatabaseUrl(), DATABASE_SCHEMA: schema } : { DATA_DIR: dataDir as string }),
      AUTH_API_KEYS_JSON: JSON.stringify([
        { id: "hooks", key: KEYS.hooks, scopes: ["webhooks"] },
        { id: "reader", key: KEYS.reader, scopes: ["runs:read"] },
        { id: "admin", key: KEYS.admin, scopes: ["admin"] },
      ]),
      WEBHOOK_SECRET_KEY: "a-passphrase-of-at-least-32-characters!",
      WEBHOOK_POLL_INTERVAL_MS: "20",
      WEBHOOK_MAX_ATTEMPTS: "3",
      WEBHOOK_RETRY_BASE_MS: String(BASE_MS),
      LOG_LEVEL: "trace",
    });
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logs.push(chunk.toString("utf8"));
        done();
      },
    });
    return startControlPlane(config, { logger: createLogger("trace", sink), webhookClock: clock });
  };
  const call = async (method: string, path: string, body?: unknown, key: string = KEYS.hooks): Promise<TestResponse> => {
    const response = await request(cp.url, method, path, { ...(body !== undefined ? { body } : {}), headers: { authorization: `Bearer ${key}` } });
    responses.push(response.text);
    return response;
  };
  const deliveries = async (webhookId: string) => (await call("GET", `/webhooks/${webhookId}/deliveries`)).body.data;
  const hook = async (path: string, events: string[], secret = SECRETS[2] as string): Promise<string> => {
    const created = await call("POST", "/webhooks", { url: `${receiver.url}${path}`, events, secret });
    expect(created.status).toBe(201);
    return created.body.id;
  };
  const finishRun = async (status: "completed" | "failed" | "cancelled"): Promise<string> => {
    const runId = await seedRun(cp.context);
    await endRun(cp.context, runId, status);
    return runId;
  };

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    cp = await start();
  });
  afterAll(async () => {
    await cp?.close();
    await receiver?.close();
    if (schema !== undefined) await dropSchema(schema);
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
  });

  it("keeps the secret write-only, validates input and needs the webhooks scope", async () => {
    const created = await call("POST", "/webhooks", { url: `${receiver.url}/crud`, events: ["run.completed"], secret: SECRETS[0] });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.any(String),
      url: `${receiver.url}/crud`,
      events: ["run.completed"],
      active: true,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
      deliveryStats: { pending: 0, delivered: 0, dead: 0, lastAttemptAt: null },
    });
    const id = created.body.id;
    expect((await call("GET", "/webhooks")).body.map((item: { id: string }) => item.id)).toContain(id);
    expect((await call("GET", `/webhooks/${id}`)).body).toEqual(created.body);
    const patched = await call("PATCH", `/webhooks/${id}`, { secret: SECRETS[1], active: false, events: [] });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ id, active: false, events: [] });
    expect(patched.body.secret).toBeUndefined();
    // Encrypted at rest with WEBHOOK_SECRET_KEY.
    const stored = await cp.context.database.db.selectFrom("webhooks").select("secret_sealed").where("id", "=", id).executeTakeFirstOrThrow();
    expect(stored.secret_sealed).toMatch(/^aes256gcm:/);
    expect(stored.secret_sealed).not.toContain(SECRETS[1]);

    const issues = async (body: unknown) => {
      const response = await call("POST", "/webhooks", body);
      expect(response.status).toBe(400);
      return response.body.details.issues.map((issue: { path: string }) => issue.path);
    };
    expect(await issues({ url: "ftp://example.com/x", secret: SECRETS[0] })).toEqual(["body/url"]);
    expect(await issues({ url: "https://user:pw@example.com/x", secret: SECRETS[0] })).toEqual(["body/url"]);
    expect(await issues({ url: "https://example.com/x", secret: "short" })).toEqual(["body/secret"]);
    expect(await issues({ url: "https://example.com/x", secret: SECRETS[0], events: ["run.exploded"] })).toContain("body/events/0");
    expect(await issues({ url: "https://example.com/x" })).toEqual(["body/secret"]);
    expect((await call("PATCH", `/webhooks/${id}`, {})).status).toBe(400);
    const missing = "00000000-0000-4000-8000-000000000000";
    for (const [method, path] of [["GET", `/webhooks/${missing}`], ["PATCH", `/webhooks/${missing}`], ["DELETE", `/webhooks/${missing}`], ["GET", `/webhooks/${missing}/deliveries`]] as const) {
      const response = await call(method, path, method === "PATCH" ? { active: true } : undefined);
      expect(response.status).toBe(404);
      expect(response.body.errorCode).toBe("WEBHOOK_NOT_FOUND");
    }
    expect((await call("GET", "/webhooks", undefined, KEYS.reader)).status).toBe(403);
    expect((await call("POST", "/webhooks", { url: "https://example.com/x", secret: SECRETS[0] }, KEYS.reader)).status).toBe(403);

    // The audit hook recorded the mutations by principal, with the secret redacted.
    const audit = (await call("GET", "/audit?resource=webhook&limit=200", undefined, KEYS.admin)).body.data;
    const createdEntry = audit.find((entry: { action: string; resourceId: string }) => entry.action === "webhook.created" && entry.resourceId === id);
    expect(createdEntry).toMatchObject({ actor: "hooks", details: { body: { secret: "[redacted]" } } });
    expect(audit.find((entry: { action: string; resourceId: string; statusCode: number }) => entry.action === "webhook.updated" && entry.resourceId === id && entry.statusCode === 200)).toMatchObject({ actor: "hooks", details: { body: { secret: "[redacted]" } } });

    expect((await call("DELETE", `/webhooks/${id}`)).status).toBe(204);
    expect((await call("GET", `/webhooks/${id}`)).status).toBe(404);
  });

  it("signs HMAC-SHA256 over `timestamp.body` with event, delivery-id and timestamp headers; only subscribed events", async () => {
    const completed = await hook("/signed", ["run.completed"], SECRETS[0]);
    const failedOnly = await hook("/failed-only", ["run.failed"]);
    const runId = await finishRun("completed");
    const [delivery] = await waitFor("the delivery", async () => ((await deliveries(completed))[0]?.status === "delivered" ? deliveries(completed) : undefined));
    expect(delivery).toMatchObject({ webhookId: completed, event: "run.completed", runId, status: "delivered", attempts: 1, responseStatus: 200, error: null, nextAttemptAt: null });
    const [received] = receiver.to("/signed");
    expect(received).toBeDefined();
    const { headers, body } = received as { headers: Record<string, unknown>; body: string };
    expect(headers["content-type"]).toBe("application/json");
    expect(headers["x-macp-event"]).toBe("run.completed");
    expect(headers["x-macp-delivery"]).toBe(delivery.id);
    expect(headers["x-macp-timestamp"]).toBe(String(Math.floor(now / 1000)));
    expect(verify(SECRETS[0] as string, headers, body)).toBe(true);
    expect(verify(SECRETS[1] as string, headers, body)).toBe(false);
    expect(verify(SECRETS[0] as string, headers, body.replace("completed", "failed"))).toBe(false);
    expect(JSON.parse(body)).toEqual({ id: delivery.id, event: "run.completed", runId, status: "completed", timestamp: expect.any(String), data: expect.objectContaining({ endedAt: expect.any(String) }) });
    expect(receiver.to("/failed-only")).toEqual([]);
    expect(await deliveries(failedOnly)).toEqual([]);
    expect((await call("GET", `/webhooks/${completed}`)).body.deliveryStats).toMatchObject({ delivered: 1, pending: 0, dead: 0 });
  });

  it("retries after 500s with growing delays, keeps the delivery id, and succeeds", async () => {
    const id = await hook("/flaky", ["run.failed"]);
    receiver.respond("/flaky", 500, 500);
    await finishRun("failed");
    const attempted = (count: number) =>
      waitFor(`attempt ${count}`, async () => {
        const [row] = await deliveries(id);
        return row?.attempts === count ? row : undefined;
      });
    const first = await attempted(1);
    expect(first).toMatchObject({ status: "pending", responseStatus: 500, error: "HTTP 500" });
    const firstDelay = Date.parse(first.nextAttemptAt) - Date.parse(first.lastAttemptAt);
    now = Date.parse(first.nextAttemptAt);
    const second = await attempted(2);
    expect(second.status).toBe("pending");
    const secondDelay = Date.parse(second.nextAttemptAt) - Date.parse(second.lastAttemptAt);
    expect(secondDelay).toBeGreaterThan(firstDelay);
    expect(firstDelay).toBeGreaterThanOrEqual(BASE_MS / 2);
    expect(firstDelay).toBeLessThanOrEqual(BASE_MS);
    now = Date.parse(second.nextAttemptAt);
    const third = await attempted(3);
    expect(third).toMatchObject({ status: "delivered", responseStatus: 200, error: null });
    const ids = receiver.to("/flaky").map((hit) => hit.headers["x-macp-delivery"]);
    expect(ids).toEqual([third.id, third.id, third.id]);
  });

  it("marks a delivery dead after WEBHOOK_MAX_ATTEMPTS failures and stops", async () => {
    const id = await hook("/down", ["run.cancelled"]);
    receiver.respond("/down", 500, 502, 503, 500, 500);
    await finishRun("cancelled");
    let row: { id: string; status: string; attempts: number; nextAttemptAt: string | null };
    for (;;) {
      row = await waitFor("an attempt", async () => {
        const [current] = await deliveries(id);
        return current && current.attempts > 0 && (current.status === "dead" || current.nextAttemptAt !== null) ? current : undefined;
      });
      if (row.status === "dead") break;
      now = Date.parse(row.nextAttemptAt as string);
      await waitFor("the next attempt", async () => ((await deliveries(id))[0]?.attempts > row.attempts ? true : undefined));
    }
    expect(row).toMatchObject({ status: "dead", attempts: 3, nextAttemptAt: null, responseStatus: 503, error: "HTTP 503" });
    expect((await call("GET", `/webhooks/${id}/deliveries?status=dead`)).body.total).toBe(1);
    expect((await call("GET", `/webhooks/${id}`)).body.deliveryStats).toMatchObject({ dead: 1, pending: 0, delivered: 0 });
    // Time moves on and another delivery goes through (to both hooks): the dead one is not tried again.
    now += 24 * 3_600_000;
    const sentinel = await hook("/sentinel", ["run.cancelled"]);
    await finishRun("cancelled");
    await waitFor("the sentinel delivery", async () => ((await deliveries(sentinel))[0]?.status === "delivered" ? true : undefined));
    expect(receiver.to("/down").filter((hit) => hit.headers["x-macp-delivery"] === row.id)).toHaveLength(3);
  });

  it("delivers what was pending across a control-plane restart (outbox), with the same delivery id", async () => {
    const id = await hook("/restart", ["run.completed"], SECRETS[1]);
    receiver.respond("/restart", 503);
    await finishRun("completed");
    const pending = await waitFor("the first attempt", async () => {
      const [row] = await deliveries(id);
      return row?.attempts === 1 ? row : undefined;
    });
    expect(pending.status).toBe("pending");
    await cp.close();
    now = Date.parse(pending.nextAttemptAt);
    cp = await start();
    const delivered = await waitFor("delivery after the restart", async () => {
      const [row] = await deliveries(id);
      return row?.status === "delivered" ? row : undefined;
    });
    expect(delivered).toMatchObject({ id: pending.id, attempts: 2 });
    const hits = receiver.to("/restart");
    expect(hits.map((hit) => hit.headers["x-macp-delivery"])).toEqual([pending.id, pending.id]);
    expect(verify(SECRETS[1] as string, hits[1]?.headers as Record<string, unknown>, hits[1]?.body as string)).toBe(true);
  });

  it("redelivers a delivered or dead delivery on request with the same id; a deactivated webhook's pending delivery ends dead", async () => {
    const id = await hook("/again", ["run.completed"], SECRETS[1]);
    const other = await hook("/again-other", ["run.failed"]);
    await finishRun("completed");
    const [delivered] = await waitFor("the delivery", async () => ((await deliveries(id))[0]?.status === "delivered" ? deliveries(id) : undefined));
    const redeliver = (webhookId: string, deliveryId: string, key?: string) => call("POST", `/webhooks/${webhookId}/deliveries/${deliveryId}/redeliver`, undefined, key);

    const accepted = await redeliver(id, delivered.id);
    expect(accepted.status).toBe(202);
    expect(accepted.body).toMatchObject({ id: delivered.id, status: "pending", attempts: 0, deliveredAt: null });
    const again = await waitFor("the redelivery", async () => {
      const [row] = await deliveries(id);
      return row?.status === "delivered" && receiver.to("/again").length === 2 ? row : undefined;
    });
    expect(again).toMatchObject({ id: delivered.id, attempts: 1 });
    const hits = receiver.to("/again");
    expect(hits.map((hit) => hit.headers["x-macp-delivery"])).toEqual([delivered.id, delivered.id]);
    expect(hits[1]?.body).toBe(hits[0]?.body);
    expect(verify(SECRETS[1] as string, hits[1]?.headers as Record<string, unknown>, hits[1]?.body as string)).toBe(true);

    // Pending (failed once, retry scheduled): nothing to redeliver. Then the webhook is deactivated.
    receiver.respond("/again", 503);
    expect((await redeliver(id, delivered.id)).status).toBe(202);
    const retrying = await waitFor("the failed attempt", async () => {
      const [row] = await deliveries(id);
      return row?.status === "pending" && row.attempts === 1 ? row : undefined;
    });
    const pending = await redeliver(id, delivered.id);
    expect(pending.status).toBe(409);
    expect(pending.body.errorCode).toBe("WEBHOOK_DELIVERY_PENDING");
    expect((await call("PATCH", `/webhooks/${id}`, { active: false })).status).toBe(200);
    now = Date.parse(retrying.nextAttemptAt);
    const dead = await waitFor("the delivery dead after deactivation", async () => ((await deliveries(id))[0]?.status === "dead" ? (await deliveries(id))[0] : undefined));
    expect(dead).toMatchObject({ id: delivered.id, error: "the webhook was deactivated before this delivery succeeded" });
    expect(receiver.to("/again")).toHaveLength(3);
    const inactive = await redeliver(id, delivered.id);
    expect(inactive.status).toBe(409);
    expect(inactive.body.errorCode).toBe("WEBHOOK_INACTIVE");
    expect((await call("PATCH", `/webhooks/${id}`, { active: true })).status).toBe(200);
    expect((await redeliver(id, delivered.id)).status).toBe(202);
    await waitFor("the redelivery after reactivation", async () => ((await deliveries(id))[0]?.status === "delivered" ? true : undefined));
    expect(receiver.to("/again")).toHaveLength(4);

    const missing = await redeliver(id, "00000000-0000-4000-8000-000000000000");
    expect(missing.status).toBe(404);
    expect(missing.body.errorCode).toBe("WEBHOOK_DELIVERY_NOT_FOUND");
    expect((await redeliver(other, delivered.id)).status).toBe(404);
    expect((await redeliver(id, "not-a-uuid")).status).toBe(400);
    expect((await redeliver(id, delivered.id, KEYS.reader)).status).toBe(403);
    const audit = (await call("GET", "/audit?resource=webhook&limit=200", undefined, KEYS.admin)).body.data;
    expect(audit.filter((entry: { action: string; resourceId: string; statusCode: number }) => entry.action === "webhook.delivery_redelivered" && entry.resourceId === id && entry.statusCode === 202)).toHaveLength(3);
  });

  it("sends a signed webhook.ping on request and reports the receiver's answer, outside the delivery log", async () => {
    const id = await hook("/ping", ["run.completed"], SECRETS[0]);
    const ok = await call("POST", `/webhooks/${id}/test`);
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ deliveryId: expect.any(String), event: "webhook.ping", delivered: true, responseStatus: 200, error: null, durationMs: expect.any(Number) });
    const [hit] = receiver.to("/ping");
    expect(hit?.headers["x-macp-event"]).toBe("webhook.ping");
    expect(hit?.headers["x-macp-delivery"]).toBe(ok.body.deliveryId);
    expect(verify(SECRETS[0] as string, hit?.headers as Record<string, unknown>, hit?.body as string)).toBe(true);
    expect(JSON.parse(hit?.body as string)).toEqual({ id: ok.body.deliveryId, event: "webhook.ping", webhookId: id, timestamp: new Date(now).toISOString(), data: {} });

    receiver.respond("/ping", 500);
    const failed = await call("POST", `/webhooks/${id}/test`);
    expect(failed.status).toBe(200);
    expect(failed.body).toMatchObject({ delivered: false, responseStatus: 500, error: "HTTP 500" });
    expect(receiver.to("/ping")).toHaveLength(2);
    expect(await deliveries(id)).toEqual([]);

    expect((await call("POST", "/webhooks/00000000-0000-4000-8000-000000000000/test")).body.errorCode).toBe("WEBHOOK_NOT_FOUND");
    expect((await call("POST", `/webhooks/${id}/test`, undefined, KEYS.reader)).status).toBe(403);
    const audit = (await call("GET", "/audit?resource=webhook&limit=200", undefined, KEYS.admin)).body.data;
    expect(audit.filter((entry: { action: string; resourceId: string; statusCode: number }) => entry.action === "webhook.tested" && entry.resourceId === id && entry.statusCode === 200)).toHaveLength(2);
  });

  it("never puts a secret in a response or a log line", () => {
    expect(logs.length).toBeGreaterThan(0);
    const logText = logs.join("");
    for (const secret of SECRETS) {
      expect(logText).not.toContain(secret);
      for (const text of responses) expect(text).not.toContain(secret);
    }
    expect(logText).toContain("webhook delivery failed");
  });
});

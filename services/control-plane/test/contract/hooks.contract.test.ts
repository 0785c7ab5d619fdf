import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startContractStack } from "./support/contract-stack.js";
import type { ContractStack } from "./support/contract-stack.js";
import { arrayOf, expectShape, maybe, objectWith } from "./support/shape.js";

const webhook = objectWith({ id: "string", url: "string", events: arrayOf("string"), secret: maybe("string"), active: "boolean", createdAt: "iso", updatedAt: "iso", deliveryStats: maybe("object") });

/** UI contract, webhooks and circuit breaker (§1.5, §11). */
describe("UI contract: webhooks and circuit breaker", () => {
  let stack: ContractStack;
  beforeAll(async () => {
    stack = await startContractStack();
  }, 180_000);
  afterAll(async () => {
    await stack?.close();
  });

  it("POST /webhooks {url, secret, events}, GET /webhooks, PATCH /webhooks/:id, DELETE /webhooks/:id", async () => {
    const created = await stack.cp.request("POST", "/webhooks", { body: { url: "http://127.0.0.1:9/hook", secret: "s3cret-s3cret-s3cret", events: ["run.completed"] } });
    expect(created.status).toBeLessThan(300);
    expectShape(created.body, webhook);
    expect(created.body.secret).not.toBe("s3cret-s3cret-s3cret");
    const listed = await stack.cp.request("GET", "/webhooks");
    expect(listed.status).toBe(200);
    expectShape(listed.body, arrayOf(webhook, true));
    const patched = await stack.cp.request("PATCH", `/webhooks/${created.body.id}`, { body: { active: false } });
    expect(patched.status).toBe(200);
    expectShape(patched.body, webhook);
    expect(patched.body.active).toBe(false);
    const deleted = await stack.cp.request("DELETE", `/webhooks/${created.body.id}`);
    expect(deleted.status).toBe(204);
  });

  it("POST /admin/circuit-breaker/reset → {status, state}; GET /admin/circuit-breaker/history → array or {history}", async () => {
    const reset = await stack.cp.request("POST", "/admin/circuit-breaker/reset");
    expect(reset.status).toBeLessThan(300);
    expectShape(reset.body, objectWith({ status: "string", state: "string" }));
    const history = await stack.cp.request("GET", "/admin/circuit-breaker/history?window=24h");
    expect(history.status).toBe(200);
    const entries = Array.isArray(history.body) ? history.body : history.body.history;
    expectShape(entries, arrayOf(objectWith({ state: "string", enteredAt: "iso" })));
  });
});

import { describe, expect, it } from "vitest";
import { guardedLookup, webhookUrlProblem } from "../src/webhooks/webhook-url.js";
import { retryDelayMs } from "../src/webhooks/webhook-dispatcher.js";

describe("webhook URL policy (SSRF)", () => {
  it("takes http(s) URLs only, without credentials or fragments", () => {
    expect(webhookUrlProblem("https://hooks.example.com/macp?x=1", false)).toBeUndefined();
    expect(webhookUrlProblem("http://hooks.example.com:8080/macp", false)).toBeUndefined();
    expect(webhookUrlProblem("ftp://hooks.example.com/", true)).toContain("http");
    expect(webhookUrlProblem("file:///etc/passwd", true)).toContain("http");
    expect(webhookUrlProblem("not a url", true)).toBe("is not a URL");
    expect(webhookUrlProblem("https://u:p@hooks.example.com/", true)).toContain("credentials");
    expect(webhookUrlProblem("https://hooks.example.com/#x", true)).toContain("fragment");
  });

  it("refuses loopback, private, link-local and mapped addresses unless allowed", () => {
    for (const url of [
      "http://127.0.0.1:9000/",
      "http://localhost/",
      "http://api.localhost/",
      "http://10.1.2.3/",
      "http://172.20.0.1/",
      "http://192.168.1.1/",
      "http://169.254.169.254/latest/meta-data",
      "http://100.64.0.1/",
      "http://0.0.0.0/",
      "http://[::1]/",
      "http://[fd00::1]/",
      "http://[fe80::1]/",
      "http://[::ffff:127.0.0.1]/",
    ]) {
      expect(webhookUrlProblem(url, false), url).toContain("WEBHOOK_ALLOW_PRIVATE_URLS");
      expect(webhookUrlProblem(url, true), url).toBeUndefined();
    }
    expect(webhookUrlProblem("http://8.8.8.8/", false)).toBeUndefined();
    expect(webhookUrlProblem("http://[2001:4860:4860::8888]/", false)).toBeUndefined();
  });

  it("refuses at connection time a name that resolves only to private addresses", async () => {
    const lookup = (allow: boolean) =>
      new Promise<{ error: NodeJS.ErrnoException | null; address: unknown }>((resolve) => {
        guardedLookup(allow)("localhost", { family: 4 }, (error, address) => resolve({ error, address }));
      });
    const refused = await lookup(false);
    expect(refused.error?.code).toBe("EADDRNOTALLOWED");
    const allowed = await lookup(true);
    expect(allowed.error).toBeNull();
    expect(allowed.address).toBe("127.0.0.1");
  });
});

describe("webhook retry delays", () => {
  it("double per attempt with equal jitter, up to the cap", () => {
    const config = { retryBaseMs: 1_000, retryMaxMs: 10_000 };
    expect([1, 2, 3].map((attempts) => retryDelayMs(config, attempts, 0))).toEqual([500, 1_000, 2_000]);
    expect([1, 2, 3].map((attempts) => retryDelayMs(config, attempts, 1))).toEqual([1_000, 2_000, 4_000]);
    expect(retryDelayMs(config, 10, 0.5)).toBe(7_500);
    expect(retryDelayMs(config, 60, 1)).toBe(10_000);
  });
});

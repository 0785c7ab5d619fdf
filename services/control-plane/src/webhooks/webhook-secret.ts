import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

const ENCRYPTED = "aes256gcm:";
const PLAIN = "plain:";

/** Stored form of a webhook secret: AES-256-GCM with `key`, or marked plain text when no key is configured. */
export function sealSecret(secret: string, key: Buffer | undefined): string {
  if (key === undefined) return `${PLAIN}${secret}`;
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  const sealed = Buffer.concat([cipher.update(secret, "utf8"), cipher.final()]);
  return `${ENCRYPTED}${Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString("base64")}`;
}

/** The secret back from its stored form; throws when it was encrypted and `key` is missing or another one. */
export function openSecret(stored: string, key: Buffer | undefined): string {
  if (stored.startsWith(PLAIN)) return stored.slice(PLAIN.length);
  if (!stored.startsWith(ENCRYPTED)) throw new Error("unknown webhook secret format");
  if (key === undefined) throw new Error("the webhook secret is encrypted and WEBHOOK_SECRET_KEY is not set");
  const bytes = Buffer.from(stored.slice(ENCRYPTED.length), "base64");
  const decipher = createDecipheriv("aes-256-gcm", key, bytes.subarray(0, 12));
  decipher.setAuthTag(bytes.subarray(12, 28));
  try {
    return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString("utf8");
  } catch {
    throw new Error("the webhook secret does not decrypt with WEBHOOK_SECRET_KEY (was the key changed?)");
  }
}

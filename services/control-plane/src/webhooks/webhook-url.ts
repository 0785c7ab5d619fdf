import { BlockList, isIP } from "node:net";
import type { LookupFunction } from "node:net";
import { lookup } from "node:dns";

/**
 * Addresses a webhook may not reach unless WEBHOOK_ALLOW_PRIVATE_URLS is on: loopback, private,
 * carrier-grade NAT, link-local (cloud metadata), benchmarking, multicast and reserved ranges.
 */
const NON_PUBLIC = new BlockList();
for (const [network, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const) {
  NON_PUBLIC.addSubnet(network, prefix, "ipv4");
}
for (const [network, prefix] of [
  ["::", 128],
  ["::1", 128],
  ["fc00::", 7],
  ["fe80::", 10],
  ["ff00::", 8],
] as const) {
  NON_PUBLIC.addSubnet(network, prefix, "ipv6");
}

/** True for an address outside the public internet (IPv4-mapped IPv6 is judged as IPv4). */
export function isNonPublicAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped !== undefined) return NON_PUBLIC.check(mapped, "ipv4");
  const family = isIP(address);
  if (family === 0) return true;
  return NON_PUBLIC.check(address, family === 4 ? "ipv4" : "ipv6");
}

/** Why `raw` cannot be a webhook URL, or undefined when it can (DNS names are checked again at each connection). */
export function webhookUrlProblem(raw: string, allowPrivate: boolean): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "is not a URL";
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return "must be an http:// or https:// URL";
  if (url.username !== "" || url.password !== "") return "must not carry credentials (sign with the webhook secret instead)";
  if (url.hash !== "") return "must not have a #fragment";
  if (allowPrivate) return undefined;
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (host === "localhost" || host.endsWith(".localhost") || (isIP(host) !== 0 && isNonPublicAddress(host))) {
    return "points at a loopback or private address (set WEBHOOK_ALLOW_PRIVATE_URLS=true to allow)";
  }
  return undefined;
}

/**
 * A DNS lookup for the delivery socket that refuses non-public addresses, so a name that resolves
 * (or is re-pointed after creation) to an internal address is never connected to.
 */
export function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) {
        callback(error, "", 0);
        return;
      }
      const usable = allowPrivate ? addresses : addresses.filter((entry) => !isNonPublicAddress(entry.address));
      if (usable.length === 0) {
        callback(Object.assign(new Error(`${hostname} resolves only to loopback or private addresses (WEBHOOK_ALLOW_PRIVATE_URLS is off)`), { code: "EADDRNOTALLOWED" }), "", 0);
        return;
      }
      if (options.all) callback(null, usable);
      else callback(null, (usable[0] as { address: string }).address, (usable[0] as { family: number }).family);
    });
  };
}

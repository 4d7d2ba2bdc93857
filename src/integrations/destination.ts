/**
 * Outbound destination policy: which addresses the server may call on someone's behalf, and calls that connect
 * only to the address that was checked. Every outbound call to a user-given address goes through here: the
 * notification senders (webhook, Discord, ntfy, email) and any later integration that calls a URL a user typed.
 */
import ipaddr from "ipaddr.js";

/** Look a name up; the addresses in the order to try them. Throws (or returns none) when the name does not resolve. */
export type Resolver = (name: string, signal?: AbortSignal) => Promise<string[]>;

/** Who may reach what: the one rule every outbound destination is held to. */
export interface DestinationPolicy {
  /** True lets the destination be private or local (an admin's own target, MEDIANEST_OUTBOUND_PRIVATE=everyone). */
  allowPrivate: boolean;
  /** Name lookup; the system resolver unless a test injects one. */
  resolve?: Resolver;
}

/** A destination that passed the policy: the address to connect to, and the name to show TLS and the Host header. */
export interface Destination {
  /** The host normalised: lowercase, no brackets or trailing dot, numeric IPv4 spellings in dotted form. */
  host: string;
  /** The address that was checked; connect to this one and no other. */
  address: string;
  /** The name TLS must present and verify (SNI, certificate); undefined when the host is itself an address. */
  serverName?: string;
}

export type DestinationErrorReason = "not_allowed" | "not_found";

/** A destination the policy refused (not_allowed) or a name that does not resolve where private ones are allowed. */
export class DestinationError extends Error {
  override readonly name = "DestinationError";

  constructor(
    readonly reason: DestinationErrorReason,
    readonly host: string,
    /** What was found, for the log only: telling a member would map the inside network for them. */
    readonly detail: string,
  ) {
    super(reason === "not_allowed" ? `${host} is not an allowed address` : `${host} was not found`);
  }
}

// ipaddr.js names these ranges too (none of them is "unicast"); the list holds should its tables ever change.
const NOT_PUBLIC_CIDRS = [
  "0.0.0.0/8",
  "10.0.0.0/8",
  "100.64.0.0/10",
  "127.0.0.0/8",
  "169.254.0.0/16",
  "172.16.0.0/12",
  "192.0.0.0/24",
  "192.0.2.0/24",
  "192.168.0.0/16",
  "198.18.0.0/15",
  "198.51.100.0/24",
  "203.0.113.0/24",
  "224.0.0.0/4",
  "240.0.0.0/4",
  // IPv4-compatible (deprecated, and ipaddr.js calls it unicast), NAT64 and the v4-embedding transition ranges.
  "::/96",
  "64:ff9b::/96",
  "64:ff9b:1::/48",
  "2001::/32",
  "2002::/16",
  "fc00::/7",
  "fe80::/10",
  "fec0::/10",
  "ff00::/8",
].map((c) => ipaddr.parseCIDR(c));

function unwrap(ip: ipaddr.IPv4 | ipaddr.IPv6): ipaddr.IPv4 | ipaddr.IPv6 {
  return ip.kind() === "ipv6" && (ip as ipaddr.IPv6).isIPv4MappedAddress() ? (ip as ipaddr.IPv6).toIPv4Address() : ip;
}

/** True for an address on the public internet: ipaddr.js calls it unicast and it is in none of the ranges above. */
export function isPublicAddress(ip: string): boolean {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = unwrap(ipaddr.parse(ip));
  } catch {
    return false;
  }
  if (parsed.range() !== "unicast") return false;
  return !NOT_PUBLIC_CIDRS.some(([range, bits]) => range.kind() === parsed.kind() && parsed.match(range, bits));
}

/**
 * Normalise a host as a URL would (lowercase, IDNA, every numeric IPv4 spelling such as 0x7f000001, 2130706433,
 * 127.1 or 0177.0.0.1 in dotted form); brackets and a trailing dot go. Undefined for something that is no host.
 */
export function normaliseHost(host: string): string | undefined {
  const trimmed = host.trim();
  // Only a host: anything that would make a URL parser read a user, path or query is refused.
  if (trimmed === "" || /[\s/\\?#@%]/.test(trimmed)) return undefined;
  const bare = trimmed.replace(/^\[(.*)\]$/, "$1");
  let hostname: string;
  try {
    hostname = new URL(`http://${bare.includes(":") ? `[${bare}]` : bare}/`).hostname;
  } catch {
    return undefined;
  }
  const out = hostname.replace(/^\[(.*)\]$/, "$1").replace(/\.+$/, "");
  return out === "" ? undefined : out;
}

// RFC 6761: localhost names are this machine whatever DNS says (and the system resolver may not know "localhost.").
function isLocalhostName(host: string): boolean {
  return host === "localhost" || host.endsWith(".localhost");
}

/** Resolve with the system resolver (Bun's getaddrinfo, cached), in its order. */
export const systemResolver: Resolver = async (name, signal) => {
  const lookup = Bun.dns.lookup(name, {}).then((rows) => rows.map((r) => r.address));
  if (!signal) return lookup;
  signal.throwIfAborted();
  return Promise.race([
    lookup,
    new Promise<never>((_, reject) => signal.addEventListener("abort", () => reject(signal.reason), { once: true })),
  ]);
};

/** The address as a socket wants it: IPv4-mapped IPv6 as plain IPv4, IPv6 in its short form. */
function connectable(ip: string): string {
  return unwrap(ipaddr.parse(ip)).toString();
}

/**
 * Check a host against the policy and pick the address to connect to. A name is looked up once; with private
 * addresses refused, every address it resolves to must be public, and a name that does not resolve is refused
 * too. Throws DestinationError; an aborted signal's reason is thrown as is.
 */
export async function resolveDestination(
  host: string,
  policy: DestinationPolicy,
  signal?: AbortSignal,
): Promise<Destination> {
  const name = normaliseHost(host);
  const shown = name ?? host.trim();
  const refuse = (reason: DestinationErrorReason, detail: string): never => {
    // Where private addresses are refused, "not found" is refused too: the two must read alike.
    throw new DestinationError(policy.allowPrivate ? reason : "not_allowed", shown, detail);
  };
  if (!name) return refuse("not_found", "not a host name or address");
  if (ipaddr.isValid(name)) {
    if (!policy.allowPrivate && !isPublicAddress(name)) refuse("not_allowed", `${name} is not a public address`);
    return { host: name, address: connectable(name) };
  }
  let addresses: string[];
  if (isLocalhostName(name)) addresses = ["127.0.0.1"];
  else {
    try {
      addresses = await (policy.resolve ?? systemResolver)(name, signal);
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      return refuse("not_found", `lookup failed (${(err as Error).message})`);
    }
  }
  const valid = addresses.filter((a) => ipaddr.isValid(a));
  if (valid.length === 0) return refuse("not_found", "the name has no addresses");
  if (!policy.allowPrivate) {
    const inside = valid.find((a) => !isPublicAddress(a));
    if (inside) refuse("not_allowed", `resolves to ${inside}, not a public address`);
  }
  return { host: name, address: connectable(valid[0]!), serverName: name };
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;

/** Bun's fetch options: `tls.serverName` sets SNI and the name the certificate is verified against. */
type BunRequestInit = RequestInit & { tls?: { serverName?: string } & Record<string, unknown> };

/**
 * Wrap a fetch so every call (and every redirect it follows) goes only to a destination the policy allows, and
 * connects to the very address that was checked: the URL is rewritten to that address, while the Host header and
 * TLS (SNI and certificate check) keep the name. A name cannot resolve to one address when checked and another
 * when connecting (DNS rebinding). Redirects are followed here, each hop checked, for GET and HEAD only; other
 * methods get the 3xx back, as with redirect: "manual". Refusals throw DestinationError.
 */
export function guardedFetch(policy: DestinationPolicy, doFetch: typeof fetch = fetch): typeof fetch {
  return (async (input: RequestInfo | URL, init: BunRequestInit = {}) => {
    if (input instanceof Request) throw new TypeError("guardedFetch takes a URL, not a Request");
    let url = new URL(input);
    let headers = new Headers(init.headers);
    const method = (init.method ?? "GET").toUpperCase();
    const follow = (init.redirect ?? "follow") === "follow" && (method === "GET" || method === "HEAD");
    for (let hop = 0; ; hop++) {
      const res = await fetchChecked(policy, doFetch, url, { ...init, headers, redirect: "manual" });
      const location = res.headers.get("location");
      if (!follow || !REDIRECTS.has(res.status) || !location) return res;
      await res.body?.cancel().catch(() => {});
      if (hop >= MAX_REDIRECTS) throw new TypeError(`more than ${MAX_REDIRECTS} redirects`);
      const next = new URL(location, url);
      if (next.protocol !== "http:" && next.protocol !== "https:")
        throw new TypeError(`redirected to a ${next.protocol} URL`);
      // As fetch does: credentials stay with the origin they were given for.
      if (next.origin !== url.origin) {
        headers = new Headers(headers);
        headers.delete("authorization");
        headers.delete("cookie");
      }
      url = next;
    }
  }) as typeof fetch;
}

async function fetchChecked(
  policy: DestinationPolicy,
  doFetch: typeof fetch,
  url: URL,
  init: BunRequestInit & { headers: Headers },
): Promise<Response> {
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new TypeError(`${url.protocol} URLs are not sent`);
  const dest = await resolveDestination(url.hostname, policy, init.signal ?? undefined);
  const direct = new URL(url);
  direct.hostname = dest.address.includes(":") ? `[${dest.address}]` : dest.address;
  const headers = new Headers(init.headers);
  headers.set("host", url.host);
  const tls = url.protocol === "https:" && dest.serverName ? { ...init.tls, serverName: dest.serverName } : init.tls;
  const res = await doFetch(direct, { ...init, headers, ...(tls ? { tls } : {}) } as RequestInit);
  // Callers read the URL they asked for, not the address it was sent to.
  Object.defineProperty(res, "url", { value: url.toString() });
  return res;
}

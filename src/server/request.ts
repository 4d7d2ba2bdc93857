// What a request says about where it came from: the client's address, whether it arrived over TLS, the host a
// trusted proxy served. The entries a proxy appends come last; earlier ones are whatever the client chose to send.
import type { Context } from "hono";
import type { AppEnv } from "../app/deps";

/** The last entry of a header a proxy appends to (X-Forwarded-For, -Host, -Proto), trimmed; undefined when absent. */
function lastEntry(c: Context<AppEnv>, name: string): string | undefined {
  return c.req.header(name)?.split(",").at(-1)?.trim() || undefined;
}

/** The client's IP: the socket address, or the address a trusted proxy appended to X-Forwarded-For. */
export function clientIp(c: Context<AppEnv>): string {
  if (c.get("deps").config.trustProxy) {
    const fwd = lastEntry(c, "x-forwarded-for");
    if (fwd) return fwd;
  }
  try {
    const info = (
      c.env as { server?: { requestIP(r: Request): { address: string } | null } } | undefined
    )?.server?.requestIP(c.req.raw);
    if (info?.address) return info.address;
  } catch {
    // app.request() in tests has no socket
  }
  return "unknown";
}

/** True when cookies must be Secure: an https public URL, or https reported by a trusted proxy. */
export function isSecureRequest(c: Context<AppEnv>): boolean {
  const { config } = c.get("deps");
  if (config.publicUrl?.startsWith("https:")) return true;
  if (config.trustProxy && c.req.header("x-forwarded-proto") === "https") return true;
  return c.req.url.startsWith("https:");
}

/**
 * The origin a trusted proxy says it served (X-Forwarded-Host, with X-Forwarded-Proto or else the request's own
 * protocol); undefined without a trusted proxy, without the header, or when the two make no origin.
 */
export function forwardedOrigin(c: Context<AppEnv>): string | undefined {
  if (!c.get("deps").config.trustProxy) return undefined;
  const host = lastEntry(c, "x-forwarded-host");
  if (!host) return undefined;
  const proto = lastEntry(c, "x-forwarded-proto") ?? new URL(c.req.url).protocol.slice(0, -1);
  try {
    return new URL(`${proto}://${host}`).origin;
  } catch {
    return undefined;
  }
}

/**
 * Which links may be downloaded: http(s) only, on a host the admin allows (compared on the parsed host name,
 * never as a substring), and not on a private or local address unless the admin named that very host.
 */
import { isIP } from "node:net";
import { DestinationError, resolveDestination } from "../integrations/destination";

/** The hosts allowed when the admin has not changed the list: YouTube's. Each also allows its subdomains. */
export const DEFAULT_ALLOWED_HOSTS = ["youtube.com", "youtu.be", "youtube-nocookie.com"];

/**
 * Say why a host may not be reached (the outbound destination policy: every address it resolves to must be
 * public); undefined when it may. The addresses found stay out of the message, which a member reads.
 */
export async function privateDestination(host: string): Promise<string | undefined> {
  try {
    await resolveDestination(host, { allowPrivate: false });
    return undefined;
  } catch (err) {
    if (err instanceof DestinationError) return `${err.host} is not a public address (or does not resolve)`;
    throw err;
  }
}

/** A link that may go to yt-dlp, or the reason it may not. */
export type LinkCheck = { ok: true; url: string; host: string } | { ok: false; message: string };

/** Lower-case a host name (or an address) the way URL parsing does; undefined when it is not one. */
export function normaliseHost(raw: string): string | undefined {
  const s = raw.trim().toLowerCase().replace(/\.$/, "");
  if (!s || /[\s/?#@]/.test(s.replace(/^\[|\]$/g, ""))) return undefined;
  try {
    const host = new URL(`http://${isIP(s) === 6 ? `[${s}]` : s}/`).hostname;
    return host.replace(/\.$/, "") || undefined;
  } catch {
    return undefined;
  }
}

/** Parse the admin's list (one host per line or comma); returns the hosts and the entries that are not hosts. */
export function parseAllowedHosts(text: string): { hosts: string[]; invalid: string[] } {
  const hosts: string[] = [];
  const invalid: string[] = [];
  for (const entry of text
    .split(/[\n,]+/)
    .map((e) => e.trim())
    .filter(Boolean)) {
    const h = normaliseHost(entry.replace(/^\*\./, ""));
    if (h) {
      if (!hosts.includes(h)) hosts.push(h);
    } else invalid.push(entry);
  }
  return { hosts, invalid };
}

function bare(host: string): string {
  return host.replace(/^\[|\]$/g, "");
}

/**
 * Match a parsed host against the list: an entry allows itself and, when it is a name, its subdomains
 * ("youtube.com" allows "www.youtube.com", never "notyoutube.com" or "youtube.com.evil.example").
 * `named` is true when the admin listed exactly this host, beyond the defaults.
 */
export function matchHost(host: string, allowed: string[]): { allowed: boolean; named: boolean } {
  const h = bare(host);
  const named = allowed.some((e) => bare(e) === h) && !DEFAULT_ALLOWED_HOSTS.includes(h);
  const ok = allowed.some((e) => {
    const entry = bare(e);
    return entry === h || (!isIP(entry) && !isIP(h) && h.endsWith(`.${entry}`));
  });
  return { allowed: ok, named };
}

/** Say why a member may not have this host reached (the outbound destination policy); undefined when it may. */
async function destinationRefusal(host: string): Promise<string | undefined> {
  try {
    await resolveDestination(host, { allowPrivate: false });
    return undefined;
  } catch (err) {
    if (err instanceof DestinationError) return err.message;
    throw err;
  }
}

export interface LinkCheckOptions {
  allowedHosts: string[];
  /** Say why a host is private (for tests); the outbound destination policy by default. */
  privateReason?: (host: string) => Promise<string | undefined>;
}

/** Check a link a person pasted, with a reason for every refusal. */
export async function checkDownloadLink(raw: string, opts: LinkCheckOptions): Promise<LinkCheck> {
  const text = raw.trim();
  if (!text) return { ok: false, message: "Paste a link to a video or a playlist." };
  if (text.startsWith("-")) return { ok: false, message: "A link cannot start with “-”." };
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing them is the point
  if (/[\u0000-\u001f\u007f\s]/.test(text))
    return { ok: false, message: "A link cannot contain spaces or control characters." };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, message: "That is not a link; it should start with https://" };
  }
  if (url.protocol !== "https:" && url.protocol !== "http:")
    return {
      ok: false,
      message: `Only http and https links can be downloaded, not ${url.protocol.replace(/:$/, "")}.`,
    };
  if (url.username || url.password)
    return { ok: false, message: "Links with a user name or password are not accepted." };
  const host = url.hostname.replace(/\.$/, "");
  if (!host) return { ok: false, message: "That link has no host." };
  const match = matchHost(host, opts.allowedHosts);
  if (!match.allowed) {
    const list = opts.allowedHosts.length ? opts.allowedHosts.join(", ") : "none";
    return {
      ok: false,
      message: `Downloads from ${host} are not allowed. Allowed sites: ${list}. An admin can add sites on the integrations page.`,
    };
  }
  if (!match.named) {
    const why = await (opts.privateReason ?? destinationRefusal)(host);
    if (why)
      return {
        ok: false,
        message: `Refused: ${why}. An admin may allow a local site by adding exactly ${host} to the allowed sites.`,
      };
  }
  return { ok: true, url: url.toString(), host };
}

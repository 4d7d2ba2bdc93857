/** Webhook, Discord and ntfy senders: one POST each, through the shared HTTP helper (timeouts, typed errors). */
import { requestRaw } from "../http";
import {
  isHttpUrl,
  SEND_TIMEOUT_MS,
  type DiscordConfig,
  type NtfyConfig,
  type OutboundMessage,
  type SendOptions,
  type SendResult,
  type WebhookConfig,
} from "./types";

async function post(
  opts: SendOptions,
  call: { service: string; displayName: string; url: string; headers: Record<string, string>; body: BodyInit | object },
): Promise<SendResult> {
  const started = performance.now();
  const headers: Record<string, string> = {
    ...(opts.userAgent ? { "User-Agent": opts.userAgent } : {}),
    ...call.headers,
  };
  const raw = typeof call.body === "string";
  const res = await requestRaw({
    service: call.service,
    displayName: call.displayName,
    url: call.url,
    method: "POST",
    headers,
    // A string body is sent as is (ntfy); anything else as JSON by the helper.
    ...(raw ? {} : { body: call.body }),
    fetch: raw ? withRawBody(opts.fetch ?? fetch, call.body as string) : (opts.fetch ?? fetch),
    destination: opts.destination,
    // A receiver answers a notification itself: a 3xx is reported as its answer, not followed.
    redirect: "manual",
    timeoutMs: opts.timeoutMs ?? SEND_TIMEOUT_MS,
    observer: opts.observer,
  });
  try {
    await res.body?.cancel();
  } catch {
    // Already closed: nothing left to release.
  }
  return { status: res.status, ms: Math.round(performance.now() - started) };
}

// requestRaw sends JSON bodies only; ntfy wants the message as the raw body, so the fetch it calls adds it.
function withRawBody(doFetch: typeof fetch, body: string): typeof fetch {
  return ((input: RequestInfo | URL, init?: RequestInit) => doFetch(input, { ...init, body })) as typeof fetch;
}

/** POST the notification as JSON {event, title, body, link, user, sentAt}, with the configured Authorization. */
export function sendWebhook(opts: SendOptions, config: WebhookConfig, m: OutboundMessage): Promise<SendResult> {
  return post(opts, {
    service: "webhook",
    displayName: "The webhook",
    url: config.url,
    headers: config.authorization ? { Authorization: config.authorization } : {},
    body: { event: m.event, title: m.title, body: m.body, link: m.link, user: m.user, sentAt: m.sentAt.toISOString() },
  });
}

/** POST the notification to a Discord webhook as one embed. */
export function sendDiscord(opts: SendOptions, config: DiscordConfig, m: OutboundMessage): Promise<SendResult> {
  // Discord refuses an embed over its limits (title 256, description 4096) and a url that is not absolute.
  const embed: { title: string; description: string; url?: string } = {
    title: m.title.slice(0, 256),
    description: m.body.slice(0, 4096),
  };
  if (m.link && isHttpUrl(m.link)) embed.url = m.link;
  return post(opts, {
    service: "discord",
    displayName: "Discord",
    url: config.url,
    headers: {},
    body: { embeds: [embed] },
  });
}

const NTFY_TAGS: Record<string, string> = {
  "request.available": "tada",
  "request.approved": "white_check_mark",
  "request.declined": "no_entry",
  "download.finished": "inbox_tray",
  "download.failed": "warning",
  announcement: "loudspeaker",
  test: "test_tube",
  "admin.user_created": "bust_in_silhouette",
  "admin.delivery_failed": "rotating_light",
};

/**
 * Make a header value safe: no line breaks, and non-ASCII text as an RFC 2047 encoded word, which ntfy decodes
 * (fetch refuses header values outside Latin-1, and Latin-1 would arrive garbled).
 */
export function headerText(value: string): string {
  const flat = value.replace(/[\r\n]+/g, " ").trim();
  return /^[\x20-\x7e]*$/.test(flat) ? flat : `=?UTF-8?B?${Buffer.from(flat, "utf8").toString("base64")}?=`;
}

/** POST the message to `${server}/${topic}` with Title, Click and Tags headers, and the access token if set. */
export function sendNtfy(opts: SendOptions, config: NtfyConfig, m: OutboundMessage): Promise<SendResult> {
  const headers: Record<string, string> = {
    "Content-Type": "text/plain; charset=utf-8",
    Title: headerText(m.title),
    Tags: NTFY_TAGS[m.event] ?? "bell",
  };
  if (m.link && isHttpUrl(m.link)) headers.Click = m.link;
  if (config.token) headers.Authorization = `Bearer ${config.token}`;
  return post(opts, {
    service: "ntfy",
    displayName: "ntfy",
    url: `${config.server.replace(/\/+$/, "")}/${encodeURIComponent(config.topic)}`,
    headers,
    body: m.body,
  });
}

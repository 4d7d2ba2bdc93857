/** Shapes shared by the outbound notification senders (webhook, Discord, ntfy, email). */
import { z } from "zod";
import type { DestinationPolicy } from "../destination";
import type { IntegrationObserver } from "../http";

/** How long one delivery attempt may take, connecting and answering included. */
export const SEND_TIMEOUT_MS = 10_000;

/** What every sender delivers: one notification for one user. */
export interface OutboundMessage {
  event: string;
  title: string;
  body: string;
  /** Absolute when MEDIANEST_PUBLIC_URL is set; senders that need an absolute URL drop a relative one. */
  link: string | null;
  user: { id: string; username: string; displayName: string };
  sentAt: Date;
}

/** Options every sender takes. */
export interface SendOptions {
  /** Where this target's owner may send: every sender checks it and connects to the address it checked. */
  destination: DestinationPolicy;
  fetch?: typeof fetch;
  timeoutMs?: number;
  observer?: IntegrationObserver;
  /** Sent as User-Agent on HTTP and as the mailer name on email. */
  userAgent?: string;
}

/** What a receiver answered: its status (HTTP, or the SMTP reply code) and how long it took. */
export interface SendResult {
  status: number;
  ms: number;
}

// Stored configs: what the forms produced, encrypted whole in notification_targets.config_enc.
export const webhookConfigSchema = z.object({ url: z.string(), authorization: z.string().optional() });
export const discordConfigSchema = z.object({ url: z.string() });
export const ntfyConfigSchema = z.object({ server: z.string(), topic: z.string(), token: z.string().optional() });
export const emailConfigSchema = z.object({
  host: z.string(),
  port: z.number().int(),
  security: z.enum(["tls", "starttls", "none"]),
  user: z.string().optional(),
  password: z.string().optional(),
  from: z.string(),
  to: z.string(),
});

export type WebhookConfig = z.infer<typeof webhookConfigSchema>;
export type DiscordConfig = z.infer<typeof discordConfigSchema>;
export type NtfyConfig = z.infer<typeof ntfyConfigSchema>;
export type EmailConfig = z.infer<typeof emailConfigSchema>;

/** A target's kind with its config. */
export type TargetConfig =
  | { kind: "webhook"; config: WebhookConfig }
  | { kind: "discord"; config: DiscordConfig }
  | { kind: "ntfy"; config: NtfyConfig }
  | { kind: "email"; config: EmailConfig };

/** True for an absolute http(s) URL. */
export function isHttpUrl(value: string): boolean {
  return /^https?:\/\//i.test(value);
}

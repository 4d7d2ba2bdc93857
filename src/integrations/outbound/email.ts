/** Email sender: one message over SMTP with nodemailer (imported on first use: most installs never send mail). */
import { DestinationError, resolveDestination } from "../destination";
import { destinationError, IntegrationError } from "../http";
import { SEND_TIMEOUT_MS, type EmailConfig, type OutboundMessage, type SendOptions, type SendResult } from "./types";

const SERVICE = "email";
const DISPLAY_NAME = "The mail server";

/** The fields nodemailer sets on its errors (its own type is not exported from the package root). */
type NodemailerError = Error & { code?: string; responseCode?: number; response?: string; originalCode?: string };

/** Send the notification as a plain-text email; every failure is an IntegrationError (status = SMTP reply code). */
export async function sendEmail(opts: SendOptions, config: EmailConfig, m: OutboundMessage): Promise<SendResult> {
  const timeoutMs = opts.timeoutMs ?? SEND_TIMEOUT_MS;
  const started = performance.now();
  const signal = AbortSignal.timeout(timeoutMs);
  let dest: Awaited<ReturnType<typeof resolveDestination>>;
  try {
    dest = await resolveDestination(config.host, opts.destination, signal);
  } catch (err) {
    const error = toIntegrationError(err as NodemailerError, timeoutMs);
    opts.observer?.onIntegrationError?.(SERVICE, error.kind);
    opts.observer?.onDuration?.(SERVICE, (performance.now() - started) / 1000);
    throw error;
  }
  const { createTransport } = await import("nodemailer");
  // nodemailer connects to the checked address (it does no lookup of its own for an address) and presents
  // and verifies the name in TLS.
  const transport = createTransport({
    host: dest.address,
    ...(dest.serverName ? { servername: dest.serverName } : {}),
    port: config.port,
    secure: config.security === "tls",
    requireTLS: config.security === "starttls",
    ignoreTLS: config.security === "none",
    ...(config.user ? { auth: { user: config.user, pass: config.password ?? "" } } : {}),
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    socketCloseTimeout: 0,
  });
  try {
    const info = await transport.sendMail({
      from: config.from,
      to: config.to,
      subject: m.title.replace(/[\r\n]+/g, " "),
      text: m.link ? `${m.body}\n\n${m.link}\n` : `${m.body}\n`,
      headers: { "X-MediaNest-Event": m.event },
      ...(opts.userAgent ? { xMailer: opts.userAgent } : {}),
      signal,
    });
    const status = Number(/^\d{3}/.exec(info.response ?? "")?.[0] ?? 250);
    if (info.rejected.length > 0) {
      throw new IntegrationError({
        service: SERVICE,
        kind: "refused",
        status,
        message: `${DISPLAY_NAME} refused the recipient (${info.response})`,
      });
    }
    return { status, ms: Math.round(performance.now() - started) };
  } catch (err) {
    const error = toIntegrationError(err as NodemailerError, timeoutMs);
    opts.observer?.onIntegrationError?.(SERVICE, error.kind);
    throw error;
  } finally {
    opts.observer?.onDuration?.(SERVICE, (performance.now() - started) / 1000);
    transport.close();
  }
}

function reply(err: NodemailerError): string {
  return (err.response ?? err.message).replace(/\s+/g, " ").trim().slice(0, 200);
}

function toIntegrationError(err: NodemailerError, timeoutMs: number): IntegrationError {
  if (err instanceof IntegrationError) return err;
  if (err instanceof DestinationError) return destinationError(SERVICE, DISPLAY_NAME, err);
  if (err.name === "TimeoutError")
    return new IntegrationError({
      service: SERVICE,
      kind: "timeout",
      message: `${DISPLAY_NAME} did not answer (timeout after ${Math.round(timeoutMs / 100) / 10} s)`,
      cause: err,
    });
  const status = err.responseCode;
  const base = { service: SERVICE, cause: err, ...(status ? { status } : {}) };
  const original = err.originalCode ?? "";
  switch (err.code) {
    case "EAUTH":
    case "ENOAUTH":
      return new IntegrationError({
        ...base,
        kind: "unauthorized",
        message: `${DISPLAY_NAME} rejected the credentials (${reply(err)})`,
      });
    case "ETIMEDOUT":
    case "EABORT":
      return new IntegrationError({
        ...base,
        kind: "timeout",
        message: `${DISPLAY_NAME} did not answer (timeout after ${Math.round(timeoutMs / 100) / 10} s)`,
      });
    case "ETLS":
      return new IntegrationError({
        ...base,
        kind: "network",
        message: `${DISPLAY_NAME} could not set up TLS (${reply(err)})`,
      });
    case "EENVELOPE":
    case "EMESSAGE":
      return new IntegrationError({
        ...base,
        kind: "refused",
        message: `${DISPLAY_NAME} refused the message (${reply(err)})`,
      });
    case "EDNS":
      return new IntegrationError({
        ...base,
        kind: "network",
        message: `${DISPLAY_NAME} could not be reached (host not found)`,
      });
    default: {
      if (status)
        return new IntegrationError({
          ...base,
          kind: "refused",
          message: `${DISPLAY_NAME} refused the request (${reply(err)})`,
        });
      const refused = original === "ECONNREFUSED" || /ECONNREFUSED/.test(err.message);
      const detail = refused
        ? "connection refused"
        : /ENOTFOUND|EAI_AGAIN/.test(err.message)
          ? "host not found"
          : err.message;
      return new IntegrationError({
        ...base,
        kind: "network",
        message: `${DISPLAY_NAME} could not be reached (${detail})`,
      });
    }
  }
}

/** Fake receivers of outbound notifications: an HTTP endpoint (webhook, Discord, ntfy) and an SMTP server. */
import { SMTPServer } from "smtp-server";
import type { AddressInfo } from "node:net";
import { recordRequest, type RecordedRequest } from "./http-fake";

/** What the next request gets: a status (with a body shaped like Discord's errors for 4xx), a late status, or no answer. */
export type ReceiverAnswer = number | "hang" | { status: number; delayMs: number };

/** An HTTP receiver on a loopback port that records every request. */
export interface FakeReceiver {
  url: string;
  port: number;
  requests: RecordedRequest[];
  /** Answers for the next requests, in order; afterwards `status`. */
  answers: ReceiverAnswer[];
  status: number;
  stop(): Promise<void>;
}

/** Start an HTTP receiver answering `status` (default 204) unless answers are queued. */
export function startReceiver(status = 204): FakeReceiver {
  let release: () => void = () => {};
  const released = new Promise<void>((r) => (release = r));
  const receiver: FakeReceiver = {
    url: "",
    port: 0,
    requests: [],
    answers: [],
    status,
    async stop() {
      release();
      await server.stop(true);
    },
  };
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      receiver.requests.push(await recordRequest(req));
      let answer = receiver.answers.shift() ?? receiver.status;
      if (answer === "hang") {
        await released;
        return new Response(null, { status: 504 });
      }
      if (typeof answer === "object") {
        await Promise.race([released, Bun.sleep(answer.delayMs)]);
        answer = answer.status;
      }
      if (answer >= 400 && answer < 500)
        return Response.json({ message: "Invalid Webhook Token", code: 50027 }, { status: answer });
      if (answer >= 500)
        return new Response("<html><body>Bad gateway</body></html>", {
          status: answer,
          headers: { "content-type": "text/html" },
        });
      return new Response(answer === 204 ? null : "ok", { status: answer });
    },
  });
  receiver.port = server.port!;
  receiver.url = `http://127.0.0.1:${server.port}`;
  return receiver;
}

/** A port on loopback where nothing listens (taken from a server that was just stopped). */
export async function closedPort(): Promise<number> {
  const s = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = s.port!;
  await s.stop(true);
  return port;
}

/** One message the SMTP fake accepted. */
export interface ReceivedMail {
  from: string;
  to: string[];
  /** The user name the client signed in with, when it did. */
  user?: string;
  raw: string;
}

/** An SMTP server on a loopback port (no TLS) that records accepted messages. */
export interface FakeSmtp {
  port: number;
  messages: ReceivedMail[];
  /** Connections accepted, whether or not a message followed. */
  connections: number;
  stop(): Promise<void>;
}

/** Start an SMTP server; with auth set, AUTH is required and only those credentials pass. */
export async function startSmtp(opts: { auth?: { user: string; pass: string } } = {}): Promise<FakeSmtp> {
  const messages: ReceivedMail[] = [];
  let connections = 0;
  const server = new SMTPServer({
    authOptional: !opts.auth,
    onConnect(_session, callback) {
      connections++;
      callback();
    },
    allowInsecureAuth: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    disableReverseLookup: true,
    onAuth(auth, _session, callback) {
      if (opts.auth && auth.username === opts.auth.user && auth.password === opts.auth.pass)
        return callback(null, { user: auth.username });
      return callback(Object.assign(new Error("Invalid username or password"), { responseCode: 535 }));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        messages.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          ...(typeof session.user === "string" ? { user: session.user } : {}),
          raw: Buffer.concat(chunks).toString("utf8"),
        });
        callback();
      });
    },
  });
  const port = await new Promise<number>((resolve) => {
    const net = server.listen(0, "127.0.0.1", () => resolve((net.address() as AddressInfo).port));
  });
  return {
    port,
    messages,
    get connections() {
      return connections;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

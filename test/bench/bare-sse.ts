// A bare Bun SSE server: one ReadableStream per client, a broadcast to all. The floor that MediaNest's live
// stream is compared with in test/bench/sse.ts (bun run bench:sse). Run alone: PORT=3000 bun test/bench/bare-sse.ts
// Under the bench it takes commands over IPC: {cmd:"publish", text} broadcasts one message, {cmd:"stats"} counts.
const encoder = new TextEncoder();
const clients = new Set<ReadableStreamDefaultController<Uint8Array>>();

/** Build the same message MediaNest sends for a maintenance notice, so both servers write equal bytes. */
export function noticeMessage(text: string): string {
  return `data: <hx-partial hx-target="#notice-banner" hx-swap="innerHTML"><div class="banner" role="status">${text}</div></hx-partial>\n\n`;
}

function broadcast(message: string): number {
  const bytes = encoder.encode(message);
  for (const c of clients) {
    try {
      c.enqueue(bytes);
    } catch {
      clients.delete(c);
    }
  }
  return clients.size;
}

if (import.meta.main) {
  const server = Bun.serve({
    port: Number(process.env.PORT ?? 3000),
    hostname: process.env.HOST ?? "127.0.0.1",
    idleTimeout: 60,
    fetch(req) {
      if (new URL(req.url).pathname !== "/events") return new Response("not found", { status: 404 });
      let self: ReadableStreamDefaultController<Uint8Array>;
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          self = controller;
          clients.add(controller);
          // Like MediaNest's first message (the unread count): tells the client it is subscribed.
          controller.enqueue(
            encoder.encode(`data: <hx-partial hx-target="#bell-count" hx-swap="innerHTML"></hx-partial>\n\n`),
          );
        },
        cancel() {
          clients.delete(self);
        },
      });
      return new Response(body, {
        headers: {
          "Content-Type": "text/event-stream",
          "Cache-Control": "no-cache, no-transform",
          "X-Accel-Buffering": "no",
        },
      });
    },
  });

  process.on("message", (raw) => {
    const msg = raw as { cmd: string; text?: string };
    if (msg.cmd === "publish") {
      const publishedAt = performance.timeOrigin + performance.now();
      broadcast(noticeMessage(msg.text ?? ""));
      process.send?.({ type: "published", publishedAt });
    } else if (msg.cmd === "stats") {
      process.send?.({ type: "stats", streams: clients.size });
    }
  });
  process.on("SIGTERM", () => {
    void server.stop(true);
    process.exit(0);
  });
  process.send?.({ type: "ready", port: server.port });
}

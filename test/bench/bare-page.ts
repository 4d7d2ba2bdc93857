// Bare Hono answering GET / with the bytes and headers of MediaNest's GET / (read from PAGE_FILE), compiled like
// MediaNest: what the response alone costs the load generator and the server, without MediaNest's middleware and
// page code (bun run bench).
import { readFileSync } from "node:fs";
import { Hono } from "hono";

const page = JSON.parse(readFileSync(process.env.PAGE_FILE!, "utf8")) as { status: number; headers: [string, string][]; body: string };
const headers = new Headers(page.headers);
const app = new Hono();
app.get("/", () => new Response(page.body, { status: page.status, headers }));
const server = Bun.serve({
  port: Number(process.env.PORT ?? 3000),
  hostname: process.env.HOST ?? "127.0.0.1",
  fetch: app.fetch,
});
process.on("SIGTERM", () => {
  void server.stop(true);
  process.exit(0);
});

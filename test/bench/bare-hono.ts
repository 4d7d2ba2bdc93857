// A bare Hono app, compiled like MediaNest (bun run bench). It answers GET / with "hello": the ceiling for a
// full-stack page's request rate. With PAGE_FILE it answers with the status, headers and body saved there (those of
// MediaNest's GET /): what the response alone costs the load generator and the server, without MediaNest's code.
import { readFileSync } from "node:fs";
import { Hono } from "hono";

const app = new Hono();
if (process.env.PAGE_FILE) {
  const page = JSON.parse(readFileSync(process.env.PAGE_FILE, "utf8")) as {
    status: number;
    headers: [string, string][];
    body: string;
  };
  const headers = new Headers(page.headers);
  app.get("/", () => new Response(page.body, { status: page.status, headers }));
} else {
  app.get("/", (c) => c.text("hello"));
}
const server = Bun.serve({
  port: Number(process.env.PORT ?? 3000),
  hostname: process.env.HOST ?? "127.0.0.1",
  fetch: app.fetch,
});
process.on("SIGTERM", () => {
  void server.stop(true);
  process.exit(0);
});

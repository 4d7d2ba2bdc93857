// A bare Hono hello world, compiled like MediaNest: the ceiling for a full-stack page's request rate (bun run bench).
import { Hono } from "hono";

const app = new Hono();
app.get("/", (c) => c.text("hello"));
const server = Bun.serve({
  port: Number(process.env.PORT ?? 3000),
  hostname: process.env.HOST ?? "127.0.0.1",
  fetch: app.fetch,
});
process.on("SIGTERM", () => {
  void server.stop(true);
  process.exit(0);
});

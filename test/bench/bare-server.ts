// A bare Bun.serve hello world, compiled like MediaNest: the floor for start time and idle memory (bun run bench).
const server = Bun.serve({
  port: Number(process.env.PORT ?? 3000),
  hostname: process.env.HOST ?? "127.0.0.1",
  fetch: () => new Response("hello"),
});
process.on("SIGTERM", () => {
  void server.stop(true);
  process.exit(0);
});

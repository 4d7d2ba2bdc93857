// Part of test/bench/search.ts, not a benchmark of its own: a bare Bun.serve in a process of its own that answers
// every request with the bytes read from stdin (the search page MediaNest served), so that the same client measures
// what one-at-a-time requests cost on this machine with no application at all. Prints its port.
const page = await Bun.stdin.bytes();
const server = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  fetch: () => new Response(page, { headers: { "content-type": "text/html; charset=UTF-8" } }),
});
console.log(server.port);
process.on("SIGTERM", () => {
  void server.stop(true);
  process.exit(0);
});
export {};

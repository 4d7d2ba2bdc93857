// Part of test/bench/search.ts, not a benchmark of its own: the client in a process of its own, so that the fake
// Seerr's work and garbage collection in the benchmark's process stay out of the latencies it measures. Reads
// { warm, requests: [{ url, headers }] } as JSON on stdin, fetches the first `warm` without counting them, then the
// rest one after the other, and prints their latencies in milliseconds as a JSON array.
const { warm, requests } = (await Bun.stdin.json()) as {
  warm: number;
  requests: { url: string; headers: Record<string, string> }[];
};
const latencies: number[] = [];
for (const [i, r] of requests.entries()) {
  const t0 = performance.now();
  const res = await fetch(r.url, { headers: r.headers, redirect: "manual" });
  const body = await res.text();
  const ms = performance.now() - t0;
  if (res.status !== 200) {
    console.error(`bench: ${r.url} answered ${res.status}: ${body.slice(0, 200)}`);
    process.exit(1);
  }
  if (i >= warm) latencies.push(ms);
}
console.log(JSON.stringify(latencies));
export {};

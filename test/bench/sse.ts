// Benchmark (not a test): bun run bench:sse   (options: --clients=5000 --publishes=3 --write-doc)
// Measures SSE fan-out in one run: MediaNest (from source: createTestApp + Bun.serve, SQLite, in-memory pub/sub)
// with N signed-in SSE clients, then a bare Bun SSE server (test/bench/bare-sse.ts) with the same N clients.
// For each: one event to everyone (a maintenance notice) a few times; delivery latency p50/p99 from the publish
// call to each client seeing it (same machine clock), and the server's RSS (VmRSS) with N streams open.
// Servers and the client swarm are separate processes; everything is on loopback. --write-doc puts the figures
// in docs/performance.md under "## SSE fan-out" (replacing that section, leaving the rest of the file alone).
//
// Each process needs about N+100 open files: the script raises the soft `ulimit -n` to the hard limit for its
// children and stops with a message when the hard limit is too low (then: ulimit -n 20000 before running).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, release, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import type { Figure } from "./figures";

const ROOT = join(import.meta.dir, "..", "..");
const SELF = join(import.meta.dir, "sse.ts");
const BARE = join(import.meta.dir, "bare-sse.ts");
const TARGET_P99_MS = 250;
const TARGET_RSS_MIB = 150;

function arg(name: string, fallback: string): string {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : fallback;
}
const N = Number(arg("clients", process.env.BENCH_SSE_CLIENTS ?? "5000"));
const PUBLISHES = Number(arg("publishes", "3"));
const ROLE = arg("role", "main");

const now = () => performance.timeOrigin + performance.now();

// ---------------------------------------------------------------------------------------------------------------
// Role: MediaNest server. Builds a migrated SQLite app with N users, one session each, writes their cookies to a
// file, serves like `medianest serve` does (idleTimeout 60), and publishes on command.
async function medianestServer(cookieFile: string): Promise<void> {
  const { createTestApp, givenUser } = await import("../helpers/test-app");
  const { startSession, SESSION_COOKIE } = await import("../../src/services/sessions");
  const { publishEvent, topics } = await import("../../src/services/events");
  const t = await createTestApp();
  await givenUser(t.deps, { role: "admin", username: "owner" });
  const cookies: string[] = [];
  for (let i = 0; i < N; i++) {
    const user = await givenUser(t.deps, { username: `bench${i}` });
    const { cookie } = await startSession(t.deps, user, { ip: "127.0.0.1", userAgent: "bench" });
    cookies.push(`${SESSION_COOKIE}=${cookie}`);
  }
  writeFileSync(cookieFile, cookies.join("\n"));
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    idleTimeout: 60,
    fetch: (req, srv) => t.app.fetch(req, { server: srv }),
  });
  process.on("message", async (raw) => {
    const msg = raw as { cmd: string; text?: string };
    if (msg.cmd === "publish") {
      const publishedAt = now();
      await publishEvent(t.deps, topics.everyone, { type: "notice", text: msg.text ?? "" });
      process.send?.({ type: "published", publishedAt });
    } else if (msg.cmd === "stats") {
      process.send?.({ type: "stats", streams: t.deps.live.size });
    }
  });
  process.on("SIGTERM", () => {
    void server.stop(true);
    process.exit(0);
  });
  process.send?.({ type: "ready", port: server.port });
}

// ---------------------------------------------------------------------------------------------------------------
// Role: client swarm. Raw HTTP/1.1 over Bun.connect (lighter than fetch for thousands of streams): each socket
// sends GET /events with its cookie and records when it first sees each "bench-mark-<k>".
interface ClientState {
  subscribed: boolean;
  closed: boolean;
  tail: string;
  seen: Map<number, number>;
}

async function clientSwarm(port: number, cookieFile: string | undefined): Promise<void> {
  const cookies = cookieFile ? readFileSync(cookieFile, "utf8").split("\n") : [];
  const states: ClientState[] = [];
  let subscribed = 0;
  let failed = 0;
  const MARK = /bench-mark-(\d+)/g;

  async function connectOne(i: number): Promise<void> {
    const state: ClientState = { subscribed: false, closed: false, tail: "", seen: new Map() };
    states.push(state);
    const cookie = cookies[i] ? `Cookie: ${cookies[i]}\r\n` : "";
    const request = `GET /events HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept: text/event-stream\r\n${cookie}\r\n`;
    try {
      await Bun.connect({
        hostname: "127.0.0.1",
        port,
        socket: {
          open(socket) {
            socket.write(request);
          },
          data(_socket, chunk) {
            const at = now();
            const text = state.tail + chunk.toString("latin1");
            if (!state.subscribed && text.includes("bell-count")) {
              state.subscribed = true;
              subscribed++;
            }
            for (const m of text.matchAll(MARK)) {
              const k = Number(m[1]);
              if (!state.seen.has(k)) state.seen.set(k, at);
            }
            state.tail = text.slice(-40);
          },
          close() {
            state.closed = true;
          },
          error() {
            state.closed = true;
          },
        },
      });
    } catch {
      state.closed = true;
      failed++;
    }
  }

  const started = now();
  const WAVE = 250;
  for (let i = 0; i < N; i += WAVE) {
    const wave = Array.from({ length: Math.min(WAVE, N - i) }, (_, j) => connectOne(i + j));
    await Promise.all(wave);
    // Let the server subscribe this wave before the next arrives (a burst of thousands overflows the backlog).
    const deadline = Date.now() + 10_000;
    while (
      subscribed + failed < Math.min(N, i + WAVE) &&
      Date.now() < deadline &&
      states.some((s) => !s.subscribed && !s.closed)
    )
      await Bun.sleep(5);
  }
  process.send?.({
    type: "connected",
    subscribed,
    failed,
    closed: states.filter((s) => s.closed).length,
    ms: now() - started,
  });

  process.on("message", async (raw) => {
    const msg = raw as { cmd: string; k?: number; timeoutMs?: number };
    if (msg.cmd !== "collect") return;
    const k = msg.k!;
    const deadline = Date.now() + (msg.timeoutMs ?? 10_000);
    while (Date.now() < deadline && states.some((s) => !s.closed && !s.seen.has(k))) await Bun.sleep(5);
    process.send?.({
      type: "collected",
      k,
      times: states.map((s) => s.seen.get(k) ?? -1),
      closed: states.filter((s) => s.closed).length,
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Role: main. Orchestrates both targets and prints the table.
interface Child {
  proc: Bun.Subprocess;
  next(type: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  send(msg: unknown): void;
}

const children = new Set<Bun.Subprocess>();
process.on("exit", () => {
  for (const c of children) c.kill("SIGKILL");
});

function fileLimits(): { soft: number; hard: number } {
  const line = readFileSync("/proc/self/limits", "utf8")
    .split("\n")
    .find((l) => l.startsWith("Max open files"))!;
  const [soft, hard] = line.replace("Max open files", "").trim().split(/\s+/);
  const num = (v: string | undefined) => (v === "unlimited" ? Number.POSITIVE_INFINITY : Number(v));
  return { soft: num(soft), hard: num(hard) };
}

/** Spawn a Bun process with the soft open-files limit raised to the hard one, talking over IPC. */
function spawnChild(args: string[], env: Record<string, string> = {}): Child {
  const inbox: Record<string, unknown>[] = [];
  const waiters: { type: string; resolve: (m: Record<string, unknown>) => void }[] = [];
  const script = `ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"`;
  const proc = Bun.spawn(["sh", "-c", script, process.execPath, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdin: "ignore",
    stdout: "ignore",
    stderr: "inherit",
    ipc(message) {
      const m = message as Record<string, unknown>;
      const w = waiters.findIndex((x) => x.type === m.type);
      if (w >= 0) waiters.splice(w, 1)[0]!.resolve(m);
      else inbox.push(m);
    },
  });
  children.add(proc);
  return {
    proc,
    send: (msg) => proc.send(msg),
    next(type, timeoutMs = 120_000) {
      const i = inbox.findIndex((m) => m.type === type);
      if (i >= 0) return Promise.resolve(inbox.splice(i, 1)[0]!);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`bench: no "${type}" from ${args.join(" ")} within ${timeoutMs} ms`)),
          timeoutMs,
        );
        waiters.push({
          type,
          resolve: (m) => {
            clearTimeout(timer);
            resolve(m);
          },
        });
        void proc.exited.then((code) => reject(new Error(`bench: ${args.join(" ")} exited with ${code}`)));
      });
    },
  };
}

async function stop(child: Child): Promise<void> {
  child.proc.kill("SIGTERM");
  const code = await Promise.race([child.proc.exited, Bun.sleep(5000).then(() => "timeout" as const)]);
  if (code === "timeout") child.proc.kill("SIGKILL");
  await child.proc.exited;
  children.delete(child.proc);
}

function rssMiB(pid: number): number {
  const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);
  return kb / 1024;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

interface Result {
  name: string;
  streams: number;
  connectMs: number;
  rssIdle: number;
  rssConnected: number;
  rssAfter: number;
  p50: number;
  p99: number;
  max: number;
  perPublishP99: number[];
  delivered: number;
  expected: number;
}

async function measure(name: string, server: Child, cookieFile?: string): Promise<Result> {
  const ready = await server.next("ready", 300_000);
  const port = ready.port as number;
  await Bun.sleep(500);
  const rssIdle = rssMiB(server.proc.pid);
  const clients = spawnChild([
    SELF,
    "--role=clients",
    `--port=${port}`,
    `--clients=${N}`,
    ...(cookieFile ? [`--cookies=${cookieFile}`] : []),
  ]);
  const connected = await clients.next("connected", 300_000);
  if ((connected.subscribed as number) < N)
    console.warn(
      `bench: ${name}: only ${connected.subscribed} of ${N} clients subscribed (${connected.failed} failed to connect)`,
    );
  await Bun.sleep(1000);
  server.send({ cmd: "stats" });
  const streams = (await server.next("stats")).streams as number;
  const rssConnected = rssMiB(server.proc.pid);
  const all: number[] = [];
  const perPublishP99: number[] = [];
  for (let k = 1; k <= PUBLISHES; k++) {
    server.send({ cmd: "publish", text: `Plex restarts tonight at 23:00 (bench-mark-${k})` });
    const publishedAt = (await server.next("published")).publishedAt as number;
    clients.send({ cmd: "collect", k, timeoutMs: 10_000 });
    const times = (await clients.next("collected", 30_000)).times as number[];
    const latencies = times
      .filter((t) => t >= 0)
      .map((t) => t - publishedAt)
      .sort((a, b) => a - b);
    perPublishP99.push(percentile(latencies, 99));
    all.push(...latencies);
    await Bun.sleep(500);
  }
  const rssAfter = rssMiB(server.proc.pid);
  all.sort((a, b) => a - b);
  await stop(clients);
  await stop(server);
  return {
    name,
    streams,
    connectMs: connected.ms as number,
    rssIdle,
    rssConnected,
    rssAfter,
    p50: percentile(all, 50),
    p99: percentile(all, 99),
    max: all.at(-1) ?? Number.NaN,
    perPublishP99,
    delivered: all.length,
    expected: N * PUBLISHES,
  };
}

const f1 = (n: number) => n.toFixed(1);
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;

function report(mn: Result, bare: Result): string {
  const date = new Date().toISOString().slice(0, 10);
  const cpu = cpus()[0]?.model.trim() ?? "unknown CPU";
  const lines = [
    "## SSE fan-out",
    "",
    `Measured by \`bun run bench:sse\` (test/bench/sse.ts) on ${date}: ${N} SSE clients, ${PUBLISHES} publishes of one event to everyone.`,
    `Machine: ${availableParallelism()} CPUs (nproc; ${cpu}), ${(totalmem() / 1024 ** 3).toFixed(1)} GiB memory, Linux ${release()}, Bun ${Bun.version}.`,
    "",
    "| target | measured | met |",
    "| --- | --- | --- |",
    `| delivery p99 under ${TARGET_P99_MS} ms at ${N} clients | ${f1(mn.p99)} ms (bare Bun ${f1(bare.p99)} ms) | ${mn.p99 < TARGET_P99_MS ? "yes" : "**no**"} |`,
    `| server RSS under ${TARGET_RSS_MIB} MiB with ${N} streams open | ${f1(mn.rssConnected)} MiB (bare Bun ${f1(bare.rssConnected)} MiB) | ${mn.rssConnected < TARGET_RSS_MIB ? "yes" : "**no**"} |`,
    "",
    "| measurement | MediaNest | bare Bun SSE | ratio |",
    "| --- | ---: | ---: | ---: |",
    `| streams open on the server | ${mn.streams} | ${bare.streams} | |`,
    `| deliveries seen (of ${mn.expected}) | ${mn.delivered} | ${bare.delivered} | |`,
    `| delivery latency p50 | ${f1(mn.p50)} ms | ${f1(bare.p50)} ms | ${ratio(mn.p50, bare.p50)} |`,
    `| delivery latency p99 | ${f1(mn.p99)} ms | ${f1(bare.p99)} ms | ${ratio(mn.p99, bare.p99)} |`,
    `| delivery latency max | ${f1(mn.max)} ms | ${f1(bare.max)} ms | ${ratio(mn.max, bare.max)} |`,
    `| p99 of each publish | ${mn.perPublishP99.map(f1).join(", ")} ms | ${bare.perPublishP99.map(f1).join(", ")} ms | |`,
    `| RSS before clients | ${f1(mn.rssIdle)} MiB | ${f1(bare.rssIdle)} MiB | ${ratio(mn.rssIdle, bare.rssIdle)} |`,
    `| RSS with ${N} streams open | ${f1(mn.rssConnected)} MiB | ${f1(bare.rssConnected)} MiB | ${ratio(mn.rssConnected, bare.rssConnected)} |`,
    `| RSS after the publishes | ${f1(mn.rssAfter)} MiB | ${f1(bare.rssAfter)} MiB | ${ratio(mn.rssAfter, bare.rssAfter)} |`,
    `| RSS per open stream (connected − before) | ${f1(((mn.rssConnected - mn.rssIdle) * 1024) / N)} KiB | ${f1(((bare.rssConnected - bare.rssIdle) * 1024) / N)} KiB | |`,
    `| time to connect and subscribe all clients | ${f1(mn.connectMs / 1000)} s | ${f1(bare.connectMs / 1000)} s | |`,
    "",
    "How it is measured: MediaNest runs from source (`createTestApp`: migrated SQLite, in-memory pub/sub, log level",
    `warn) behind \`Bun.serve\` with idleTimeout 60 as \`medianest serve\` does, with ${N} users, one session cookie each`,
    "(`startSession`). A separate Bun process opens one raw HTTP/1.1 connection per client to `/events` (250 at a",
    "time, each waiting for its first message, which the server sends once subscribed). The server process then calls",
    "`publishEvent(topics.everyone, notice)`; latency is each client's first sight of that message minus the time",
    "just before the publish call (`performance.timeOrigin + performance.now()` in both processes, one clock), so it",
    "includes the client process reading thousands of sockets in turn on the same 2 cores. RSS is `VmRSS` of the",
    "server process from /proc. The bare server (test/bench/bare-sse.ts) keeps one `ReadableStream` per client and",
    "enqueues the same bytes to all; same client swarm, same machine, same run.",
    "",
  ];
  return lines.join("\n");
}

function writeDoc(section: string): void {
  const path = process.env.BENCH_DOC_PATH ?? join(ROOT, "docs", "performance.md");
  let doc = "";
  try {
    doc = readFileSync(path, "utf8");
  } catch {
    doc = "# Performance\n";
  }
  const start = doc.indexOf("\n## SSE fan-out\n");
  if (start >= 0) {
    const after = doc.indexOf("\n## ", start + 1);
    doc = doc.slice(0, start + 1) + section + (after >= 0 ? doc.slice(after + 1) : "");
  } else {
    doc = `${doc.replace(/\n*$/, "\n")}\n${section}`;
  }
  writeFileSync(path, doc);
  console.log("bench: wrote the SSE fan-out section of docs/performance.md");
}

async function main(): Promise<void> {
  const { hard } = fileLimits();
  if (hard < N + 200) {
    console.error(
      `bench: ${N} clients need about ${N + 200} open files per process; the hard limit is ${hard}. Run: ulimit -n ${N + 1000}`,
    );
    process.exit(1);
  }
  const work = mkdtempSync(join(tmpdir(), "medianest-bench-sse-"));
  try {
    const cookieFile = join(work, "cookies.txt");
    console.log(`bench: MediaNest with ${N} SSE clients…`);
    const mn = await measure(
      "MediaNest",
      spawnChild([SELF, "--role=medianest", `--cookies=${cookieFile}`, `--clients=${N}`]),
      cookieFile,
    );
    console.log(`bench: bare Bun SSE server with ${N} SSE clients…`);
    const bare = await measure("bare", spawnChild([BARE], { PORT: "0" }));
    const section = report(mn, bare);
    // For `bun run bench:all`: the figures in the shape importable benchmarks return (test/bench/figures.ts).
    if (process.env.BENCH_FIGURES_FILE) {
      const figures: Figure[] = [
        {
          name: `SSE delivery p99, ${N} clients`,
          unit: "ms",
          value: mn.p99,
          baseline: bare.p99,
          ratio: mn.p99 / bare.p99,
          target: `under ${TARGET_P99_MS} ms`,
          met: mn.p99 < TARGET_P99_MS && mn.delivered === mn.expected,
        },
        {
          name: `SSE server RSS with ${N} streams open`,
          unit: "MiB",
          value: mn.rssConnected,
          baseline: bare.rssConnected,
          ratio: mn.rssConnected / bare.rssConnected,
          target: `under ${TARGET_RSS_MIB} MiB`,
          met: mn.rssConnected < TARGET_RSS_MIB,
        },
      ];
      writeFileSync(process.env.BENCH_FIGURES_FILE, JSON.stringify(figures));
    }
    console.log(`\n${section}`);
    if (process.argv.includes("--write-doc")) writeDoc(section);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (ROLE === "medianest") await medianestServer(arg("cookies", ""));
else if (ROLE === "clients") await clientSwarm(Number(arg("port", "0")), arg("cookies", "") || undefined);
else await main();

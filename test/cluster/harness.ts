// Cluster harness: the compiled binary as several replicas on loopback ports, sharing one PostgreSQL database and one
// Redis key prefix, behind a real nginx as the load balancer; plus a private Redis and a private PostgreSQL cluster
// for the tests that kill them. Every process is a child of the test and is killed when it ends.
import { randomBytes } from "node:crypto";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..", "..");

/** nginx from the Debian package (it lives in /usr/sbin, often not on a user's PATH). */
export const NGINX = Bun.which("nginx") ?? ["/usr/sbin/nginx", "/usr/bin/nginx"].find((p) => existsSync(p)) ?? null;
export const REDIS_SERVER = Bun.which("redis-server");
/** The newest PostgreSQL server binaries (initdb, pg_ctl), for a private cluster a test may restart. */
export const PG_BIN = (() => {
  try {
    const versions = new Bun.Glob("*/bin/pg_ctl").scanSync("/usr/lib/postgresql");
    const found = [...versions].sort((a, b) => Number.parseInt(b) - Number.parseInt(a))[0];
    return found ? join("/usr/lib/postgresql", found, "..") : null;
  } catch {
    return null;
  }
})();

const children = new Set<Bun.Subprocess>();
process.on("exit", () => {
  for (const c of children) c.kill("SIGKILL");
});

/** Give a port nothing listens on right now. */
export function freePort(): number {
  const probe = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = probe.port!;
  probe.stop(true);
  return port;
}

/** Wait until what() gives a truthy value; throws with the label after ms. */
export async function until<T>(label: string, what: () => Promise<T | undefined | false | null> | T, ms = 30_000) {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await what();
      if (v) return v as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end)
      throw new Error(`timed out waiting for ${label}${last ? `: ${(last as Error).message}` : ""}`);
    await Bun.sleep(50);
  }
}

function collect(stream: ReadableStream<Uint8Array>, into: string[]): void {
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) into.push(decoder.decode(chunk, { stream: true }));
  })();
}

/** Build the binary once per test file with package.json's build script, into a private directory. */
export async function buildBinary(work: string): Promise<string> {
  const pkg = (await Bun.file(join(ROOT, "package.json")).json()) as { scripts: Record<string, string> };
  const out = join(work, "medianest");
  const argv = pkg.scripts.build!.replace("--outfile dist/medianest", `--outfile ${out}`).split(/\s+/);
  const proc = Bun.spawn(argv, { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`build failed (${code}):\n${stdout}\n${stderr}`);
  return out;
}

/** Run a command of the binary to completion. */
export async function runBinary(bin: string, args: string[], env: Record<string, string>) {
  const proc = Bun.spawn([bin, ...args], { cwd: tmpdir(), env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, stdout, stderr };
}

/** One replica: `medianest serve` on its own port and data directory. */
export class Replica {
  proc: Bun.Subprocess<"ignore", "pipe", "pipe"> | undefined;
  private chunks: string[] = [];
  readonly base: string;

  constructor(
    readonly name: string,
    readonly bin: string,
    readonly port: number,
    private readonly env: () => Record<string, string>,
  ) {
    this.base = `http://127.0.0.1:${port}`;
  }

  /** Start the process (without waiting for it to be ready). */
  spawn(): this {
    this.chunks = [];
    const proc = Bun.spawn([this.bin, "serve"], {
      cwd: tmpdir(),
      env: { ...this.env(), MEDIANEST_PORT: String(this.port) },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    children.add(proc);
    void proc.exited.then(() => children.delete(proc));
    collect(proc.stdout, this.chunks);
    collect(proc.stderr, this.chunks);
    this.proc = proc;
    return this;
  }

  get running(): boolean {
    return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  output(): string {
    return this.chunks.join("");
  }

  /** The JSON log lines the replica wrote so far. */
  logLines(): Record<string, unknown>[] {
    return this.output()
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => {
        try {
          return JSON.parse(l) as Record<string, unknown>;
        } catch {
          return {};
        }
      });
  }

  /** Wait until /readyz answers 200. */
  async ready(ms = 30_000): Promise<this> {
    const end = Date.now() + ms;
    for (;;) {
      if (!this.running) throw new Error(`${this.name} exited (${this.proc?.exitCode}):\n${this.output()}`);
      try {
        const res = await fetch(`${this.base}/readyz`);
        await res.arrayBuffer();
        if (res.status === 200) return this;
      } catch {
        // not listening yet
      }
      if (Date.now() > end) throw new Error(`${this.name} not ready within ${ms} ms:\n${this.output()}`);
      await Bun.sleep(50);
    }
  }

  async start(): Promise<this> {
    return this.spawn().ready();
  }

  /** Send a signal and wait for the exit code. */
  async kill(signal: "SIGTERM" | "SIGKILL" = "SIGTERM", ms = 20_000): Promise<number | null> {
    const proc = this.proc;
    if (!proc || !this.running) return proc?.exitCode ?? null;
    proc.kill(signal);
    await Promise.race([proc.exited, Bun.sleep(ms)]);
    if (this.running) {
      proc.kill("SIGKILL");
      await proc.exited;
      throw new Error(`${this.name} did not stop on ${signal} within ${ms} ms:\n${this.output()}`);
    }
    return proc.exitCode;
  }

  async readyz(): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${this.base}/readyz`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }
}

/**
 * nginx in front of the replicas: round robin, passive health (max_fails), retries on the next replica. Each list
 * of upstream ports is a site on a port of its own (`urls[i]`), all in one nginx with one configuration.
 */
/**
 * How long nginx keeps an idle connection to a replica. Below the replicas' drain delay (the Cluster refuses one that
 * is not): a draining replica closes each connection after its answer, and nginx closes the idle ones itself first,
 * so none is open when the replica's listener closes, and no request is written on a connection being closed.
 */
export const UPSTREAM_KEEPALIVE_S = 1;

export class Nginx {
  proc: Bun.Subprocess<"ignore", "pipe", "pipe"> | undefined;
  readonly dir: string;
  readonly ports: number[];
  readonly urls: string[];
  private chunks: string[] = [];
  private readonly sites: number[][];

  constructor(
    work: string,
    upstreams: number[] | number[][],
    private readonly opts: { keepalive?: boolean } = {},
  ) {
    this.dir = mkdtempSync(join(work, "nginx-"));
    // Workers run as nobody when the master runs as root; they write their temp files here.
    chmodSync(this.dir, 0o777);
    this.sites = (Array.isArray(upstreams[0]) ? upstreams : [upstreams]) as number[][];
    this.ports = this.sites.map(() => freePort());
    this.urls = this.ports.map((p) => `http://127.0.0.1:${p}`);
  }

  get port(): number {
    return this.ports[0]!;
  }

  get url(): string {
    return this.urls[0]!;
  }

  private conf(): string {
    const d = this.dir;
    const sites = this.sites.map((ports, i) => {
      const servers = ports.map((p) => `    server 127.0.0.1:${p} max_fails=1 fail_timeout=2s;`).join("\n");
      return `  upstream medianest${i} {
${servers}
${this.opts.keepalive === false ? "" : `    keepalive 64;\n    keepalive_timeout ${UPSTREAM_KEEPALIVE_S}s;`}
  }
  server {
    listen 127.0.0.1:${this.ports[i]} backlog=4096;
    location / {
      proxy_pass http://medianest${i};
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $http_host;
      # A replica that refuses, resets or answers 502/503 (starting, draining) is skipped for the next one and
      # counted failed for fail_timeout (a draining one answers GETs 503 in its drain's last second, so nginx has
      # stopped sending before its listener closes); a POST is retried only when it never reached a replica.
      proxy_next_upstream error timeout http_502 http_503;
      proxy_next_upstream_tries 3;
      proxy_connect_timeout 2s;
      proxy_read_timeout 120s;
      proxy_buffering off;
      add_header X-Upstream $upstream_addr always;
    }
  }`;
    });
    return `worker_processes 1;
error_log ${d}/error.log warn;
pid ${d}/nginx.pid;
worker_rlimit_nofile 20000;
events { worker_connections 16000; }
http {
  access_log off;
  client_body_temp_path ${d}/client_body;
  proxy_temp_path ${d}/proxy;
  fastcgi_temp_path ${d}/fastcgi;
  uwsgi_temp_path ${d}/uwsgi;
  scgi_temp_path ${d}/scgi;
${sites.join("\n")}
}
`;
  }

  /** Start nginx as a child in the foreground (daemon off) with its own conf, pid and logs. */
  async start(): Promise<this> {
    writeFileSync(join(this.dir, "nginx.conf"), this.conf());
    const proc = Bun.spawn([NGINX!, "-p", this.dir, "-c", join(this.dir, "nginx.conf"), "-g", "daemon off;"], {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    children.add(proc);
    void proc.exited.then(() => children.delete(proc));
    collect(proc.stdout, this.chunks);
    collect(proc.stderr, this.chunks);
    this.proc = proc;
    await until("nginx to listen", async () => {
      if (proc.exitCode !== null) throw new Error(`nginx exited: ${this.output()}`);
      const res = await fetch(`${this.url}/healthz`);
      await res.arrayBuffer();
      return res.status === 200;
    });
    return this;
  }

  output(): string {
    const log = join(this.dir, "error.log");
    return this.chunks.join("") + (existsSync(log) ? readFileSync(log, "utf8") : "");
  }

  async stop(): Promise<void> {
    if (!this.proc || this.proc.exitCode !== null) return;
    this.proc.kill("SIGQUIT");
    await Promise.race([this.proc.exited, Bun.sleep(5000)]);
    this.proc.kill("SIGKILL");
    await this.proc.exited;
  }
}

/** A Redis server of the test's own on a free port (no persistence), which a test may kill and start again. */
export class PrivateRedis {
  proc: Bun.Subprocess | undefined;
  readonly port = freePort();
  readonly url = `redis://127.0.0.1:${this.port}`;

  async start(): Promise<this> {
    const proc = Bun.spawn(
      [REDIS_SERVER!, "--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      { stdin: "ignore", stdout: "ignore", stderr: "ignore" },
    );
    children.add(proc);
    void proc.exited.then(() => children.delete(proc));
    this.proc = proc;
    await until("redis to listen", async () => {
      const s = await Bun.connect({ hostname: "127.0.0.1", port: this.port, socket: { data() {} } });
      s.end();
      return true;
    });
    return this;
  }

  async kill(): Promise<void> {
    this.proc?.kill("SIGKILL");
    await this.proc?.exited;
  }
}

/**
 * A PostgreSQL cluster of the test's own (initdb, pg_ctl) on a free port, which a test may stop and start again
 * without touching the shared server. PostgreSQL refuses to run as root, so as root it runs as the postgres user.
 */
export class PrivatePostgres {
  readonly port = freePort();
  readonly dir: string;
  readonly url: string;
  private readonly asRoot = process.getuid?.() === 0;

  constructor(work: string) {
    this.dir = join(mkdtempSync(join(work, "pg-")), "data");
    this.url = `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  private async run(args: string[]): Promise<void> {
    const argv = this.asRoot ? ["runuser", "-u", "postgres", "--", ...args] : args;
    const proc = Bun.spawn(argv, { cwd: tmpdir(), stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    const [out, err, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    if (code !== 0) throw new Error(`${args.join(" ")} failed (${code}): ${out}\n${err}`);
  }

  async init(): Promise<this> {
    const parent = join(this.dir, "..");
    if (this.asRoot) {
      const pw = Bun.spawnSync(["id", "-u", "postgres"]).stdout.toString().trim();
      const gr = Bun.spawnSync(["id", "-g", "postgres"]).stdout.toString().trim();
      chownSync(parent, Number(pw), Number(gr));
    }
    await this.run([join(PG_BIN!, "initdb"), "-D", this.dir, "-U", "postgres", "--auth=trust", "-E", "UTF8"]);
    return this;
  }

  async start(): Promise<void> {
    const opts = `-p ${this.port} -k ${join(this.dir, "..")} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
    await this.run([
      join(PG_BIN!, "pg_ctl"),
      "-D",
      this.dir,
      "-o",
      opts,
      "-w",
      "-l",
      join(this.dir, "..", "log"),
      "start",
    ]);
  }

  /** Stop fast (connections are cut, as in a failover or a restart). */
  async stop(): Promise<void> {
    await this.run([join(PG_BIN!, "pg_ctl"), "-D", this.dir, "-m", "fast", "-w", "stop"]);
  }

  async destroy(): Promise<void> {
    await this.stop().catch(() => {});
  }
}

/** Everything a cluster of replicas shares, and the env every replica gets. */
export interface ClusterOptions {
  bin: string;
  work: string;
  databaseUrl: string;
  redisUrl: string;
  replicas?: number;
  env?: Record<string, string>;
  nginx?: boolean;
  keepalive?: boolean;
}

export const SECRET_KEY = "cluster-test-secret-key-0123456789abcdef";

/** A running cluster: replicas behind nginx. */
export class Cluster {
  readonly replicas: Replica[] = [];
  nginx: Nginx | undefined;
  readonly prefix = `medianest-test:${randomBytes(6).toString("hex")}:`;
  readonly env: Record<string, string>;

  constructor(readonly opts: ClusterOptions) {
    this.env = {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: process.env.HOME ?? opts.work,
      MEDIANEST_HOST: "127.0.0.1",
      DATABASE_URL: opts.databaseUrl,
      REDIS_URL: opts.redisUrl,
      MEDIANEST_REDIS_PREFIX: this.prefix,
      MEDIANEST_CLUSTER: "1",
      MEDIANEST_SECRET_KEY: SECRET_KEY,
      MEDIANEST_TRUST_PROXY: "1",
      MEDIANEST_SHUTDOWN_TIMEOUT: "5",
      MEDIANEST_DATABASE_CONNECT_TIMEOUT: "30",
      MEDIANEST_LOG_LEVEL: "info",
      ...opts.env,
    };
    const drain = Number(this.env.MEDIANEST_DRAIN_DELAY ?? 0);
    if (drain > 0 && opts.nginx !== false && opts.keepalive !== false && drain <= UPSTREAM_KEEPALIVE_S)
      throw new Error(
        `cluster: MEDIANEST_DRAIN_DELAY must exceed nginx's keepalive_timeout (${UPSTREAM_KEEPALIVE_S} s)`,
      );
    for (let i = 0; i < (opts.replicas ?? 3); i++) this.addReplica();
  }

  addReplica(env: Record<string, string> = {}): Replica {
    const name = `replica-${String.fromCharCode(97 + this.replicas.length)}`;
    const dataDir = join(this.opts.work, `${this.prefix.replace(/[^a-z0-9]/g, "")}-${name}`);
    mkdirSync(dataDir, { recursive: true });
    const r = new Replica(name, this.opts.bin, freePort(), () => ({
      ...this.env,
      MEDIANEST_DATA_DIR: dataDir,
      ...env,
    }));
    this.replicas.push(r);
    return r;
  }

  async start(): Promise<this> {
    await Promise.all(this.replicas.map((r) => r.start()));
    if (this.opts.nginx !== false) {
      this.nginx = await new Nginx(
        this.opts.work,
        this.replicas.map((r) => r.port),
        { keepalive: this.opts.keepalive },
      ).start();
    }
    return this;
  }

  get url(): string {
    return this.nginx!.url;
  }

  /** The replica that answered through nginx (nginx's X-Upstream header). */
  answeredBy(res: Response): Replica | undefined {
    const upstream = res.headers.get("x-upstream")?.split(",").pop()?.trim();
    return this.replicas.find((r) => upstream === `127.0.0.1:${r.port}`);
  }

  async stop(): Promise<void> {
    await this.nginx?.stop();
    await Promise.all(this.replicas.map((r) => r.kill("SIGKILL").catch(() => {})));
    await cleanPrefix(this.opts.redisUrl, this.prefix).catch(() => {});
  }
}

async function cleanPrefix(url: string, prefix: string): Promise<void> {
  const { default: Redis } = await import("ioredis");
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  // A Redis a test killed is reported by connect() below, not as an unhandled error event.
  r.on("error", () => {});
  await r.connect();
  let cursor = "0";
  do {
    const [next, keys] = await r.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500);
    cursor = next;
    if (keys.length) await r.del(...keys);
  } while (cursor !== "0");
  await r.quit();
}

/** Make a private work directory, removed by the returned function. */
export function workDir(name: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), `medianest-${name}-`));
  chmodSync(dir, 0o755);
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A browser over real HTTP: cookies, the CSRF token from pages, a same-origin Origin on POST. */
export class HttpClient {
  cookies = new Map<string, string>();
  csrf = "";

  constructor(public base: string) {}

  private store(res: Response) {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(";");
      const eq = pair!.indexOf("=");
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const expired = attrs.some((a) => /max-age=0\b/i.test(a.trim()) || /expires=thu, 01 jan 1970/i.test(a.trim()));
      if (expired || value === "") this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }

  /** A copy of this client (same cookies and token) that talks to another base URL (one replica directly). */
  at(base: string): HttpClient {
    const c = new HttpClient(base);
    c.cookies = this.cookies;
    c.csrf = this.csrf;
    return c;
  }

  async get(path: string, headers: Record<string, string> = {}): Promise<Response> {
    const res = await fetch(this.base + path, {
      headers: { cookie: this.cookieHeader(), ...headers },
      redirect: "manual",
    });
    this.store(res);
    if ((res.headers.get("content-type") ?? "").includes("text/html")) {
      const html = await res.clone().text();
      const m = /<meta name="csrf-token" content="([^"]+)"/.exec(html);
      if (m) this.csrf = m[1]!;
    }
    return res;
  }

  async post(path: string, form: Record<string, string> = {}, headers: Record<string, string> = {}): Promise<Response> {
    const body = new URLSearchParams();
    if (this.csrf) body.set("_csrf", this.csrf);
    for (const [k, v] of Object.entries(form)) body.append(k, v);
    const res = await fetch(this.base + path, {
      method: "POST",
      body,
      redirect: "manual",
      headers: {
        cookie: this.cookieHeader(),
        origin: new URL(this.base).origin,
        "content-type": "application/x-www-form-urlencoded",
        ...headers,
      },
    });
    this.store(res);
    return res;
  }

  /** Sign in with a user name and password (GET /login for the form, then POST it). */
  async signIn(username: string, password: string): Promise<Response> {
    await (await this.get("/login")).arrayBuffer();
    const res = await this.post("/login", { username, password, next: "/" });
    await res.arrayBuffer();
    return res;
  }
}

/** An SSE stream held open on one URL; collects what arrives. */
export class SseStream {
  text = "";
  private readonly abort = new AbortController();
  readonly opened: Promise<Response>;

  constructor(url: string, cookie: string) {
    this.opened = fetch(url, { headers: { cookie, accept: "text/event-stream" }, signal: this.abort.signal });
    void this.opened
      .then(async (res) => {
        const decoder = new TextDecoder();
        for await (const chunk of res.body!) this.text += decoder.decode(chunk, { stream: true });
      })
      .catch(() => {});
  }

  async waitFor(needle: string, ms = 15_000): Promise<void> {
    await until(`"${needle}" on the stream`, () => this.text.includes(needle), ms);
  }

  close(): void {
    this.abort.abort();
  }
}

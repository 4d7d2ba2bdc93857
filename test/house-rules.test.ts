// Rules of the house that a reader cannot see in any one file, held by the suite.
import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { Glob } from "bun";

const ROOT = join(import.meta.dir, "..");

describe("formatting", () => {
  test("the tree is formatted by Biome (fix: bun run format)", async () => {
    const proc = Bun.spawn(["bun", "x", "biome", "format", "."], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
    const [out, err, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    if (code !== 0)
      console.error(
        `${out}\n${err}`
          .split("\n")
          .filter((l) => l.includes("format ━"))
          .join("\n"),
      );
    expect(code).toBe(0);
  });
});

// The layers, highest first (docs/architecture.md, "Layers"). A file may import its own layer and any layer below
// it; layers on one row are peers and do not import each other.
const LAYER_ORDER: string[][] = [
  ["commands"],
  ["server root"],
  ["web"],
  ["server"],
  ["views"],
  ["jobs"],
  ["services"],
  ["app"],
  ["integrations", "store", "coordination", "metrics"],
  ["db", "config"],
  ["telemetry"],
  ["version"],
];

// Where each file belongs: the first matching path prefix wins, so the specific entries come first.
const LAYER_OF: [prefix: string, layer: string][] = [
  ["src/main.ts", "commands"],
  ["src/cli/", "commands"],
  ["src/server/app.ts", "server root"],
  ["src/server/runtime.ts", "server root"],
  ["src/web/", "web"],
  ["src/server/", "server"],
  ["views/", "views"],
  ["src/jobs/", "jobs"],
  ["src/services/", "services"],
  ["src/app/", "app"],
  ["src/integrations/", "integrations"],
  ["src/store/", "store"],
  ["src/coordination/", "coordination"],
  ["src/metrics/", "metrics"],
  ["src/db/", "db"],
  ["src/config/", "config"],
  ["src/telemetry/", "telemetry"],
  ["src/version.ts", "version"],
  ["src/types.d.ts", "version"],
];

const RANK = new Map(LAYER_ORDER.flatMap((row, rank) => row.map((layer) => [layer, rank] as const)));

/** Name the layer of a file (a path relative to the repository), or undefined for one outside every layer. */
function layerOf(file: string): string | undefined {
  return LAYER_OF.find(([prefix]) => file === prefix || (prefix.endsWith("/") && file.startsWith(prefix)))?.[1];
}

/** True when a file of layer `from` may import one of layer `to`. */
function mayImport(from: string, to: string): boolean {
  return from === to || RANK.get(to)! > RANK.get(from)!;
}

// Static imports and re-exports (type-only ones too: they tie the layers as much as any other), side-effect
// imports and dynamic import() with a literal path. Comments are removed first.
const IMPORT =
  /^\s*(?:import|export)\s+(?:type\s+)?(?:[\w$*{},\s]+?\s+from\s*)?["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/gm;

/** List the module paths a source text imports. */
function importsOf(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  return [...code.matchAll(IMPORT)].map((m) => (m[1] ?? m[2])!);
}

/** Resolve a relative import to a source file of the repository (relative path), or undefined if it is not one. */
function resolve(file: string, spec: string): string | undefined {
  if (!spec.startsWith(".")) return undefined;
  const base = join(dirname(join(ROOT, file)), spec);
  for (const candidate of [base, `${base}.ts`, `${base}.tsx`, join(base, "index.ts")])
    if (/\.tsx?$/.test(candidate) && existsSync(candidate)) return relative(ROOT, candidate);
  return undefined;
}

/** Every source file under src/ and views/ except tests, with the modules it imports. */
async function sourceFiles(): Promise<{ file: string; imports: string[] }[]> {
  const out: { file: string; imports: string[] }[] = [];
  for (const pattern of ["src/**/*.{ts,tsx}", "views/**/*.{ts,tsx}"])
    for await (const file of new Glob(pattern).scan(ROOT)) {
      if (file.includes(".test.")) continue;
      out.push({ file, imports: importsOf(await Bun.file(join(ROOT, file)).text()) });
    }
  return out.sort((a, b) => a.file.localeCompare(b.file));
}

describe("layers", () => {
  test("the import reader finds static, type-only, multi-line, re-exported and dynamic imports, not comments", () => {
    const source = [
      `import { a } from "./a";`,
      `import type { B } from "../b";`,
      `import {\n  c,\n  type D,\n} from "./c";`,
      `export { e } from "./e";`,
      `import "./side-effect";`,
      `// import { z } from "./commented";`,
      `/* import("./commented-too") */`,
      `const f = await import("./f");`,
      `const text = "import nothing from here";`,
    ].join("\n");
    expect(importsOf(source)).toEqual(["./a", "../b", "./c", "./e", "./side-effect", "./f"]);
  });

  test("the rule refuses an upward import and allows a downward one", () => {
    expect(mayImport(layerOf("src/services/users.ts")!, layerOf("src/server/middleware/session.ts")!)).toBe(false);
    expect(mayImport(layerOf("src/server/middleware/errors.ts")!, layerOf("src/web/admin.tsx")!)).toBe(false);
    expect(mayImport(layerOf("src/store/users.ts")!, layerOf("src/integrations/http.ts")!)).toBe(false);
    expect(mayImport(layerOf("src/web/admin.tsx")!, layerOf("src/server/access.ts")!)).toBe(true);
    expect(mayImport(layerOf("src/server/app.ts")!, layerOf("src/web/admin.tsx")!)).toBe(true);
  });

  test("every file under src/ and views/ belongs to a layer and imports no layer above its own", async () => {
    const files = await sourceFiles();
    expect(files.length).toBeGreaterThan(50);
    const unplaced = files.filter(({ file }) => !layerOf(file)).map(({ file }) => file);
    expect(unplaced).toEqual([]);
    const upward: string[] = [];
    let checked = 0;
    for (const { file, imports } of files) {
      const from = layerOf(file)!;
      for (const spec of imports) {
        const target = resolve(file, spec);
        const to = target && layerOf(target);
        if (!to) continue;
        checked++;
        if (!mayImport(from, to)) upward.push(`${file} (${from}) imports ${target} (${to})`);
      }
    }
    expect(checked).toBeGreaterThan(200);
    expect(upward).toEqual([]);
  });
});

/** The source files under a folder of the project (tests excluded), as [path relative to the root, text]. */
async function sources(folder: string): Promise<[string, string][]> {
  const out: [string, string][] = [];
  for await (const path of new Glob(`${folder}/**/*.{ts,tsx}`).scan(ROOT)) {
    if (path.endsWith(".test.ts")) continue;
    out.push([path, await Bun.file(join(ROOT, path)).text()]);
  }
  return out;
}

describe("one way to do each thing", () => {
  test("htmx's request and answer headers are read and written only in src/server/htmx.ts", async () => {
    const header =
      /["'`]hx-(request|request-type|boosted|source|target|current-url|redirect|location|refresh|retarget|reswap|reselect|push-url|replace-url|trigger)["'`]/i;
    const files = await sources("src");
    expect(files.some(([path]) => path === "src/server/htmx.ts")).toBe(true);
    const offenders = files
      .filter(([path, text]) => path !== "src/server/htmx.ts" && header.test(text))
      .map(([path, text]) => `${path}: ${text.match(header)![0]}`);
    expect(offenders).toEqual([]);
  });
});

describe("tracing costs nothing while it is off", () => {
  test("OpenTelemetry is imported only by src/telemetry/otel.ts, and that only with import() from serve", async () => {
    const STATIC = /^\s*(?:import|export)\s+(?:type\s+)?(?:[\w$*{},\s]+?\s+from\s*)?["']([^"']+)["']/gm;
    const DYNAMIC = /\bimport\(\s*["']([^"']+)["']\s*\)/g;
    const offenders: string[] = [];
    let loaders = 0;
    for (const { file } of await sourceFiles()) {
      const code = (await Bun.file(join(ROOT, file)).text())
        .replace(/\/\*[\s\S]*?\*\//g, "")
        .replace(/^\s*\/\/.*$/gm, "");
      for (const [, spec] of code.matchAll(STATIC)) {
        if (spec!.startsWith("@opentelemetry/") && file !== "src/telemetry/otel.ts") offenders.push(`${file}: ${spec}`);
        if (resolve(file, spec!) === "src/telemetry/otel.ts") offenders.push(`${file}: static import of ${spec}`);
      }
      for (const [, spec] of code.matchAll(DYNAMIC))
        if (resolve(file, spec!) === "src/telemetry/otel.ts") {
          loaders++;
          if (file !== "src/cli/serve.ts") offenders.push(`${file}: import(${spec})`);
        }
    }
    expect(offenders).toEqual([]);
    expect(loaders).toBe(1);
  });
});

// drizzle, the schema files and the database's query builder and tables: what makes a file SQL-aware.
const QUERY_BUILDER =
  /\b(?:database|deps\.database)\s*\.\s*(?:db|tables)\b|\{[^{}]*\b(?:db|tables)\b[^{}]*\}\s*=\s*[\w.]*database\b/;

/** Name what makes a source text SQL-aware, or undefined when nothing does. */
function sqlAwareness(file: string, source: string): string | undefined {
  for (const spec of importsOf(source)) {
    if (spec === "drizzle-orm" || spec.startsWith("drizzle-orm/")) return `imports ${spec}`;
    const target = resolve(file, spec);
    if (target?.startsWith("src/db/schema/")) return `imports ${target}`;
  }
  const m = QUERY_BUILDER.exec(source);
  return m ? `uses ${m[0]}` : undefined;
}

describe("store is the only SQL layer", () => {
  test("the check sees drizzle, the schema and the query builder however they are reached", () => {
    const file = "src/services/example.ts";
    expect(sqlAwareness(file, `import { eq } from "drizzle-orm";`)).toBe("imports drizzle-orm");
    expect(sqlAwareness(file, `import type { x } from "drizzle-orm/sqlite-core";`)).toBe(
      "imports drizzle-orm/sqlite-core",
    );
    expect(sqlAwareness(file, `import { users } from "../db/schema/sqlite";`)).toBe("imports src/db/schema/sqlite.ts");
    expect(sqlAwareness(file, `const { db, tables } = deps.database;`)).toBe("uses { db, tables } = deps.database");
    expect(sqlAwareness(file, `await deps.database.db.select();`)).toBe("uses deps.database.db");
    expect(sqlAwareness(file, `const t = database.tables.users;`)).toBe("uses database.tables");
    expect(
      sqlAwareness(file, `import { findUserById } from "../store/users";\nawait findUserById(deps.database, id);`),
    ).toBe(undefined);
  });

  test("no file outside src/store/ and src/db/ imports drizzle or the schema, or touches the tables (tests excepted)", async () => {
    const offenders: string[] = [];
    for (const pattern of ["src/**/*.{ts,tsx}", "views/**/*.{ts,tsx}"])
      for await (const file of new Glob(pattern).scan(ROOT)) {
        if (file.includes(".test.") || file.startsWith("src/store/") || file.startsWith("src/db/")) continue;
        const why = sqlAwareness(file, await Bun.file(join(ROOT, file)).text());
        if (why) offenders.push(`${file} ${why}`);
      }
    expect(offenders.sort()).toEqual([]);
  });
});

// The speed rules of docs/architecture.md ("Speed rules") that a reading of the code can hold.
describe("speed rules", () => {
  test("handlers and views set headers only through c.header, never on a Response's headers", async () => {
    const touch = /\.headers\.(set|append|delete)\(|\bc\.res\.headers\b/;
    const files = [...(await sources("src/web")), ...(await sources("views"))];
    expect(files.length).toBeGreaterThan(20);
    const offenders = files
      .filter(([, text]) => touch.test(text))
      .map(([path, text]) => `${path}: ${text.match(touch)![0]}`);
    expect(offenders).toEqual([]);
  });

  test("no area adds Hono middleware of its own: every request's layers are the one pipeline", async () => {
    const files = await sources("src/web");
    const offenders = files.filter(([, text]) => /\bapp\.use\(/.test(text)).map(([path]) => path);
    expect(offenders).toEqual([]);
  });

  test("the layout and the signed-out home page keep to Latin-1, so a page is a one-byte string to build and encode", async () => {
    const { BaseLayout } = await import("../views/layouts/base");
    const { HomePage } = await import("../views/pages/home");
    const viewer = { username: "ann", displayName: "Ann", role: "admin" as const, avatarUrl: null, unread: 2 };
    const pages = [
      await BaseLayout({ title: "MediaNest", path: "/", children: HomePage({ user: undefined }) }),
      await BaseLayout({ title: "Admin", path: "/admin", viewer, csrfToken: "t", notice: "Back soon", children: "x" }),
    ];
    for (const page of pages) {
      const wide = [...page].filter((ch) => ch.charCodeAt(0) > 0xff);
      expect(wide).toEqual([]);
      expect(page).toContain("&#9680;");
    }
  });
});

describe("each layer where its name says", () => {
  test("src/server/middleware/ holds the request layers only: pages and views import nothing from it", async () => {
    // Request facts (clientIp, isSecureRequest) live in src/server/request.ts, page answers in src/server/htmx.ts.
    const offenders: string[] = [];
    for (const { file, imports } of await sourceFiles()) {
      if (!file.startsWith("src/web/") && !file.startsWith("views/")) continue;
      for (const spec of imports) {
        const target = resolve(file, spec);
        if (target?.startsWith("src/server/middleware/")) offenders.push(`${file} imports ${target}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});

// docs/operations.md stays true: the log keys it lists are the keys a request line has, in their order; its
// Promtail, Alloy and Tempo snippets parse and read those keys; README.md and docs/architecture.md link to it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { startTracing } from "../src/telemetry/otel";
import { setTracing, stopTracing } from "../src/telemetry/trace";
import { type FakeCollector, startFakeCollector } from "./fakes/otlp-collector";
import { createTestApp, givenUser, signIn, type TestApp } from "./helpers/test-app";

const ROOT = join(import.meta.dir, "..");
const doc = await Bun.file(join(ROOT, "docs/operations.md")).text();

/** The section of the page under a heading, to the next heading of the same or a higher level. */
function section(heading: string): string {
  const level = heading.match(/^#+/)![0].length;
  const start = doc.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`docs/operations.md has no "${heading}"`);
  const lines = doc.slice(start + heading.length + 2).split("\n");
  let fenced = false;
  const end = lines.findIndex((line) => {
    if (line.startsWith("```")) fenced = !fenced;
    return !fenced && new RegExp(`^#{1,${level}} `).test(line);
  });
  return (end < 0 ? lines : lines.slice(0, end)).join("\n");
}

/** The first column of every Markdown table in a text, as the `key`s it names. */
function tableKeys(text: string): string[][] {
  const tables: string[][] = [];
  let current: string[] | undefined;
  for (const line of text.split("\n")) {
    if (!line.startsWith("|")) {
      current = undefined;
      continue;
    }
    const cell = line.split("|")[1]!.trim();
    if (/^-+$/.test(cell) || cell === "key") {
      if (cell === "key") tables.push((current = []));
      continue;
    }
    current?.push(cell.replace(/^`|`$/g, ""));
  }
  return tables;
}

/** The body of every fenced block of a language in a text. */
function blocks(text: string, lang: string): string[] {
  return [...text.matchAll(new RegExp("```" + lang + "\\n([\\s\\S]*?)```", "g"))].map((m) => m[1]!);
}

const [lineKeys, requestKeys] = tableKeys(section("## Logs"));

describe("the log keys docs/operations.md lists", () => {
  let t: TestApp;
  let collector: FakeCollector;
  const logLines: string[] = [];
  beforeAll(async () => {
    t = await createTestApp({ logLines });
    collector = startFakeCollector();
  });
  afterAll(async () => {
    await stopTracing();
    await t.close();
    await collector.stop();
  });

  test("are the keys of a request line, in their order, with and without a trace", async () => {
    expect(lineKeys).toEqual(["time", "level", "msg", "trace_id", "span_id"]);
    const browser = await signIn(t, await givenUser(t.deps));
    logLines.length = 0;
    await browser.get("/account");
    setTracing(startTracing({ endpoint: collector.url, serviceName: "medianest" }));
    await browser.get("/account");
    const [plain, traced] = logLines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((e) => e.msg === "request");
    expect(Object.keys(plain!)).toEqual([...lineKeys!.filter((k) => !k.endsWith("_id")), ...requestKeys!]);
    expect(Object.keys(traced!)).toEqual([...lineKeys!, ...requestKeys!]);
  });
});

describe("the collectors' snippets", () => {
  const documented = new Set([...lineKeys!, ...requestKeys!]);

  test("Promtail: parses, reads documented keys, times lines by `time` and labels only the level", () => {
    const [promtail] = blocks(section("### Promtail"), "yaml");
    const config = parseYaml(promtail!) as {
      scrape_configs: { pipeline_stages: Record<string, Record<string, unknown>>[] }[];
    };
    const stages = config.scrape_configs[0]!.pipeline_stages;
    const stage = (name: string) => stages.find((s) => name in s)?.[name];
    const expressions = stage("json")?.expressions as Record<string, string>;
    expect(Object.values(expressions).filter((k) => !documented.has(k))).toEqual([]);
    expect(stage("timestamp")).toEqual({ source: "time", format: "RFC3339Nano" });
    expect(Object.keys(stage("labels")!)).toEqual(["level"]);
    expect(Object.keys(stage("structured_metadata")!)).toEqual(["trace_id"]);
  });

  test("Alloy: its JSON stage reads documented keys and feeds the same stages", () => {
    const [alloy] = blocks(section("### Grafana Alloy"), "alloy");
    const braces = [...alloy!].reduce((n, ch) => n + (ch === "{" ? 1 : ch === "}" ? -1 : 0), 0);
    expect(braces).toBe(0);
    const expressions = alloy!.match(/stage\.json \{\s*expressions = \{([^}]*)\}/)?.[1] ?? "";
    const keys = [...expressions.matchAll(/(\w+)\s*=/g)].map((m) => m[1]!);
    expect(keys).toEqual(["time", "level", "trace_id"]);
    expect(alloy).toContain('source = "time"');
    expect(alloy).toMatch(/stage\.labels \{\s*values = \{ level = "" \}/);
  });

  test("Tempo: parses and takes OTLP/HTTP on 4318, where OTEL_EXPORTER_OTLP_ENDPOINT points", () => {
    const [tempo, compose] = blocks(section("### Tempo"), "yaml");
    const config = parseYaml(tempo!) as {
      distributor: { receivers: { otlp: { protocols: { http: { endpoint: string } } } } };
    };
    expect(config.distributor.receivers.otlp.protocols.http.endpoint).toBe("0.0.0.0:4318");
    const services = (parseYaml(compose!) as { services: Record<string, { environment?: Record<string, string> }> })
      .services;
    expect(services.medianest?.environment?.OTEL_EXPORTER_OTLP_ENDPOINT).toBe("http://tempo:4318");
  });
});

test("README.md and docs/architecture.md link to docs/operations.md", async () => {
  expect(await Bun.file(join(ROOT, "README.md")).text()).toContain("](docs/operations.md)");
  expect(await Bun.file(join(ROOT, "docs/architecture.md")).text()).toContain("](operations.md)");
  for (const [, target] of doc.matchAll(/\]\((deploy\.md[^)]*)\)/g)) {
    const [file, anchor] = target!.split("#");
    const deploy = await Bun.file(join(ROOT, "docs", file!)).text();
    if (anchor) {
      const headings = [...deploy.matchAll(/^#+ (.*)$/gm)].map((m) =>
        m[1]!
          .toLowerCase()
          .replace(/[^\w\s-]/g, "")
          .replace(/\s+/g, "-"),
      );
      expect(headings).toContain(anchor);
    }
  }
});

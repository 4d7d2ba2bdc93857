// README.md stays in step with the code: the generated configuration table, the binary's commands, the test command.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { configTableMarkdown } from "../src/config/config";
import { options } from "../src/config/options";
import { README_PATH, TABLE_END, TABLE_START, readConfigSection, spliceConfigTable } from "./write-readme-config";

const ROOT = join(import.meta.dir, "..");
const readme = await Bun.file(README_PATH).text();

describe("README configuration table", () => {
  test("is exactly configTableMarkdown() between the markers (fix: bun test/write-readme-config.ts)", () => {
    expect(readConfigSection(readme)).toBe(`\n${configTableMarkdown()}\n`);
  });

  test("names every option", () => {
    const section = readConfigSection(readme) ?? "";
    for (const option of Object.values(options)) expect(section).toContain(`\`${option.env}\``);
  });

  test("splicing replaces a stale table and is idempotent", () => {
    const stale = `# x\n\n${TABLE_START}\n| old | table |\n${TABLE_END}\n\nafter\n`;
    const once = spliceConfigTable(stale, "| new |");
    expect(once).toBe(`# x\n\n${TABLE_START}\n| new |\n${TABLE_END}\n\nafter\n`);
    expect(spliceConfigTable(once, "| new |")).toBe(once);
  });

  test("splicing refuses a README without markers, or with them reversed", () => {
    expect(() => spliceConfigTable("no markers")).toThrow(/config-table/);
    expect(() => spliceConfigTable(`${TABLE_END}\n${TABLE_START}`)).toThrow(/config-table/);
  });
});

describe("README commands", () => {
  test("documents every command the binary lists in its usage", async () => {
    const proc = Bun.spawn(["bun", join(ROOT, "src/main.ts"), "help"], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
    const [usage, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
    expect(code).toBe(0);
    const commands = usage
      .split("Commands:")[1]!
      .split("\n")
      .map((line) => /^ {2}([a-z][a-z-]+)\b/.exec(line)?.[1])
      .filter((c): c is string => c !== undefined);
    expect(commands).toContain("serve");
    expect(commands.length).toBeGreaterThanOrEqual(8);
    for (const command of commands) expect(readme).toContain(`\`medianest ${command}`);
  });

  test("gives npm test as the test command, and package.json runs the self-sufficient script", async () => {
    const pkg = (await Bun.file(join(ROOT, "package.json")).json()) as { scripts: Record<string, string> };
    expect(readme).toContain("npm test");
    expect(readme).toContain("./install.sh");
    expect(pkg.scripts.test).toBe("sh test/run.sh");
    expect(await Bun.file(join(ROOT, "test/run.sh")).text()).toContain('exec bun test --timeout 60000 "$@"');
  });

  test("links the architecture, performance and deployment pages", () => {
    expect(readme).toContain("(docs/architecture.md)");
    expect(readme).toContain("(docs/performance.md)");
    expect(readme).toContain("(docs/deploy.md)");
  });
});

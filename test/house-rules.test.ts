// Rules of the house that a reader cannot see in any one file, held by the suite.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";

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

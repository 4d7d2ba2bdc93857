// Rewrite the configuration table in README.md from the option table: bun test/write-readme-config.ts
import { join } from "node:path";
import { configTableMarkdown } from "../src/config/config";

export const TABLE_START = "<!-- config-table:start -->";
export const TABLE_END = "<!-- config-table:end -->";
export const README_PATH = join(import.meta.dir, "..", "README.md");

/** Return the text between the config-table markers, or undefined when they are missing or out of order. */
export function readConfigSection(readme: string): string | undefined {
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  if (start < 0 || end < start || readme.indexOf(TABLE_START, start + 1) >= 0) return undefined;
  return readme.slice(start + TABLE_START.length, end);
}

/** Replace the text between the config-table markers with the table, on lines of its own. */
export function spliceConfigTable(readme: string, table: string = configTableMarkdown()): string {
  if (readConfigSection(readme) === undefined) {
    throw new Error(`readme: README.md needs exactly one ${TABLE_START} followed by ${TABLE_END}`);
  }
  const start = readme.indexOf(TABLE_START) + TABLE_START.length;
  const end = readme.indexOf(TABLE_END);
  return `${readme.slice(0, start)}\n${table}\n${readme.slice(end)}`;
}

if (import.meta.main) {
  const before = await Bun.file(README_PATH).text();
  const after = spliceConfigTable(before);
  if (after === before) {
    console.log("README.md: the configuration table is up to date");
  } else {
    await Bun.write(README_PATH, after);
    console.log("README.md: configuration table rewritten from src/config/options.ts");
  }
}

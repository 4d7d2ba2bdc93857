import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  channelFolder,
  freeBaseName,
  isInside,
  MAX_TITLE_BYTES,
  safeExtension,
  safeName,
  UnsafePathError,
} from "./names";

function root(): string {
  return mkdtempSync(join(tmpdir(), "medianest-names-"));
}

describe("names from remote metadata", () => {
  test.each([
    ["../../etc/passwd", "etc-passwd"],
    ["/etc/cron.d/x", "etc-cron.d-x"],
    ["..", "fallback"],
    [".", "fallback"],
    ["...hidden", "hidden"],
    ["--exec", "exec"],
    ["a\u0000b", "ab"],
    ["Title: Part 1?", "Title - Part 1"],
    ['a*b<c>d|e"f', "abcdef"],
    ["evil\u202Egpj.exe", "evilgpj.exe"],
    ["  lots   of\tspace  ", "lots of space"],
    ["CON", "_CON"],
    ["nul.txt", "_nul.txt"],
    ["", "fallback"],
  ])("%j becomes %j", (raw, expected) => {
    expect(safeName(raw, "fallback")).toBe(expected);
  });

  test("names are Unicode NFC and cut to a byte budget on a character boundary", () => {
    expect(safeName("Cafe\u0301", "x")).toBe("Caf\u00e9");
    const long = safeName("é".repeat(400), "x");
    expect(new TextEncoder().encode(long).byteLength).toBeLessThanOrEqual(MAX_TITLE_BYTES);
    expect(long).toBe("é".repeat(MAX_TITLE_BYTES / 2));
  });

  test("extensions are plain or bin", () => {
    expect(safeExtension("MP4")).toBe("mp4");
    expect(safeExtension("../x")).toBe("bin");
    expect(safeExtension(null)).toBe("bin");
  });

  test("isInside refuses the parent, siblings and absolute escapes", () => {
    expect(isInside("/lib/videos", "/lib/videos/a/b.mp4")).toBe(true);
    expect(isInside("/lib/videos", "/lib/videos/../x")).toBe(false);
    expect(isInside("/lib/videos", "/lib/videos-other/x")).toBe(false);
    expect(isInside("/lib/videos", "/etc/passwd")).toBe(false);
  });
});

describe("folders and files in the library", () => {
  test("a channel whose name differs only by case or Unicode form reuses the existing folder", async () => {
    const r = root();
    mkdirSync(join(r, "Café Channel"));
    expect(await channelFolder(r, "café channel")).toBe(join(r, "Café Channel"));
    expect(await channelFolder(r, "CAFE\u0301 CHANNEL")).toBe(join(r, "Café Channel"));
    expect(await channelFolder(r, "../../x")).toBe(join(r, "x"));
    rmSync(r, { recursive: true, force: true });
  });

  test("a channel folder that is a link out of the root is refused", async () => {
    const r = root();
    const outside = root();
    symlinkSync(outside, join(r, "Evil"));
    expect(channelFolder(r, "evil")).rejects.toBeInstanceOf(UnsafePathError);
    rmSync(r, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });

  test("a file name taken by case or Unicode form gets a number", async () => {
    const r = root();
    writeFileSync(join(r, "My Video [abc].mp4"), "");
    expect(await freeBaseName(r, "my video", "abc", ["mp4", "jpg"])).toBe("my video [abc] (2)");
    expect(await freeBaseName(r, "Other", "abc", ["mp4", "jpg"])).toBe("Other [abc]");
    writeFileSync(join(r, "01 - A [i].jpg"), "");
    expect(await freeBaseName(r, "A", "i", ["webm", "jpg"], "01 - ")).toBe("01 - A [i] (2)");
    rmSync(r, { recursive: true, force: true });
  });
});

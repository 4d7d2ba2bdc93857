import { afterAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSecretBox, loadMasterKey } from "./secret-box";

const root = mkdtempSync(join(tmpdir(), "medianest-secret-box-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => {
  const dir = join(root, `d${n++}`);
  return dir;
};

/** Change one character of a base64url segment of a sealed value. */
function tamper(sealed: string, part: 1 | 2 | 3): string {
  const parts = sealed.split(":");
  const seg = parts[part]!;
  const i = Math.floor(seg.length / 2);
  parts[part] = seg.slice(0, i) + (seg[i] === "A" ? "B" : "A") + seg.slice(i + 1);
  return parts.join(":");
}

describe("createSecretBox", () => {
  const box = createSecretBox(randomBytes(32));

  test("round trips text of any kind", () => {
    for (const plain of ["plex-token-abc123", "", "pässwörd 🔑 with: colons", "x".repeat(10_000)]) {
      expect(box.decrypt(box.encrypt(plain))).toBe(plain);
    }
  });

  test("sealing the same text twice gives different values that never contain it", () => {
    const a = box.encrypt("same secret value");
    const b = box.encrypt("same secret value");
    expect(a).not.toBe(b);
    expect(a).toStartWith("v1:");
    expect(a).not.toContain("same secret value");
    expect(Buffer.from(a.split(":")[3]!, "base64url").toString()).not.toContain("same secret");
  });

  test("detects tampering with the ciphertext, tag or IV", () => {
    const sealed = box.encrypt("a secret long enough to tamper with");
    for (const part of [1, 2, 3] as const) {
      expect(() => box.decrypt(tamper(sealed, part))).toThrow(
        "secret-box: cannot decrypt (wrong key or tampered value)",
      );
    }
    const [v, iv, tag, ct] = sealed.split(":");
    expect(() => box.decrypt([v, iv, tag, ct!.slice(0, -2)].join(":"))).toThrow("secret-box: cannot decrypt");
  });

  test("refuses values that are not sealed", () => {
    for (const value of ["plain text", "v2:a:b:c", "v1:only-two", ""]) {
      expect(() => box.decrypt(value)).toThrow("secret-box: value is not an encrypted secret");
    }
  });

  test("another key cannot open it", () => {
    const sealed = box.encrypt("for this key only");
    expect(() => createSecretBox(randomBytes(32)).decrypt(sealed)).toThrow("wrong key or tampered value");
  });

  test("derived keys are 32 bytes, stable per purpose, different across purposes", () => {
    const master = randomBytes(32);
    const a = createSecretBox(master);
    const b = createSecretBox(master);
    expect(a.deriveKey("hmac").length).toBe(32);
    expect(a.deriveKey("hmac").equals(b.deriveKey("hmac"))).toBe(true);
    expect(a.deriveKey("hmac").equals(a.deriveKey("other"))).toBe(false);
    expect(a.deriveKey("hmac").equals(master)).toBe(false);
  });
});

describe("loadMasterKey", () => {
  test("creates a key file with mode 0600 at first start and reuses it afterwards", () => {
    const dir = freshDir();
    const first = loadMasterKey(dir);
    const file = join(dir, "secret.key");

    expect(first.length).toBe(32);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const content = readFileSync(file, "utf8");
    expect(content).toMatch(/^[0-9a-f]{64}\n$/);

    const second = loadMasterKey(dir);
    expect(second.equals(first)).toBe(true);
    expect(readFileSync(file, "utf8")).toBe(content);
    // And what one start sealed, the next start opens.
    expect(createSecretBox(second).decrypt(createSecretBox(first).encrypt("kept across restarts"))).toBe(
      "kept across restarts",
    );
  });

  test("processes starting together on one data directory all get the same key, and leave only the key file", async () => {
    const dir = freshDir();
    const module = join(import.meta.dir, "secret-box.ts");
    // Each process waits for the same moment, then loads the key: they race for the key file.
    const at = Date.now() + 400;
    const script = `const { loadMasterKey } = await import(${JSON.stringify(module)}); Bun.sleepSync(Math.max(0, ${at} - Date.now())); console.log(loadMasterKey(${JSON.stringify(dir)}).toString("hex"));`;
    const procs = Array.from({ length: 6 }, () =>
      Bun.spawn([process.execPath, "-e", script], { stdout: "pipe", stderr: "pipe" }),
    );
    const results = await Promise.all(
      procs.map(async (p) => ({
        out: (await new Response(p.stdout).text()).trim(),
        err: await new Response(p.stderr).text(),
        code: await p.exited,
      })),
    );
    for (const r of results) expect({ code: r.code, err: r.err }).toEqual({ code: 0, err: "" });
    expect(new Set(results.map((r) => r.out)).size).toBe(1);
    expect(results[0]!.out).toBe(readFileSync(join(dir, "secret.key"), "utf8").trim());
    expect(readdirSync(dir)).toEqual(["secret.key"]);
  });

  test("two data directories get different keys", () => {
    expect(loadMasterKey(freshDir()).equals(loadMasterKey(freshDir()))).toBe(false);
  });

  test("MEDIANEST_SECRET_KEY overrides the key file and creates none", () => {
    const dir = freshDir();
    const fromFile = loadMasterKey(dir);
    const configured = "correct-horse-battery-staple-0123456789";

    const key = loadMasterKey(dir, configured);

    expect(key.length).toBe(32);
    expect(key.equals(fromFile)).toBe(false);
    expect(loadMasterKey(freshDir(), configured).equals(key)).toBe(true);
    const other = freshDir();
    loadMasterKey(other, configured);
    expect(existsSync(join(other, "secret.key"))).toBe(false);
  });

  test("a damaged key file is refused, naming the file", () => {
    const dir = freshDir();
    loadMasterKey(dir);
    const file = join(dir, "secret.key");
    writeFileSync(file, "not a key\n");
    expect(() => loadMasterKey(dir)).toThrow(`secret-box: ${file} is not a MediaNest key file`);
    expect(readFileSync(file, "utf8")).toBe("not a key\n");
  });

  test("creates the data directory when it does not exist yet (PostgreSQL mode never creates it otherwise)", () => {
    const dir = join(freshDir(), "nested", "data");
    const key = loadMasterKey(dir);
    expect(loadMasterKey(dir).equals(key)).toBe(true);
  });
});

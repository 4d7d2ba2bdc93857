import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Encrypts and decrypts stored secrets with AES-256-GCM. */
export interface SecretBox {
  encrypt(plain: string): string;
  /** Throws when the value was not encrypted with this key or was tampered with. */
  decrypt(sealed: string): string;
  /** Derive a sub-key for another purpose (HMAC signing), so one master key serves all. */
  deriveKey(purpose: string): Buffer;
}

const KEY_FILE = "secret.key";

// Hashing and random bytes come from Bun itself; node:crypto (slow to load, and large) is loaded only when a secret
// is first encrypted or decrypted, for AES-GCM.
type NodeCrypto = typeof import("node:crypto");
let nodeCrypto: NodeCrypto | undefined;
const cipherApi = (): NodeCrypto => (nodeCrypto ??= require("node:crypto") as NodeCrypto);

/** SHA-256 of the parts, as bytes. */
function sha256(...parts: (string | Buffer)[]): Buffer {
  const hasher = new Bun.CryptoHasher("sha256");
  for (const p of parts) hasher.update(p);
  return hasher.digest();
}

/** n cryptographically random bytes. */
export function randomBytes(n: number): Buffer {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(n)));
}

/** The key file MediaNest uses in a data directory while MEDIANEST_SECRET_KEY is unset. */
export function keyFilePath(dataDir: string): string {
  return join(dataDir, KEY_FILE);
}

function readKeyFile(file: string): Buffer {
  const hex = readFileSync(file, "utf8").trim();
  if (!/^[0-9a-f]{64}$/.test(hex))
    throw new Error(`secret-box: ${file} is not a MediaNest key file (expected 64 hex characters)`);
  return Buffer.from(hex, "hex");
}

/**
 * Return the master key: from MEDIANEST_SECRET_KEY, or from a key file in the data directory created on first start
 * (mode 0600). Processes starting together on one data directory end up with the same key: the file is written
 * whole under another name and linked into place, which only one of them can do; the others read the winner's.
 */
export function loadMasterKey(dataDir: string, configured?: string): Buffer {
  if (configured) return sha256(configured);
  const file = keyFilePath(dataDir);
  if (existsSync(file)) return readKeyFile(file);
  const key = randomBytes(32);
  // On PostgreSQL nothing else creates the data directory before the key is needed.
  mkdirSync(dataDir, { recursive: true });
  const draft = `${file}.${process.pid}.${randomBytes(4).toString("hex")}`;
  writeFileSync(draft, key.toString("hex") + "\n", { mode: 0o600, flag: "wx" });
  try {
    chmodSync(draft, 0o600);
    linkSync(draft, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return readKeyFile(file);
    throw err;
  } finally {
    rmSync(draft, { force: true });
  }
  return key;
}

/** Create a SecretBox over a 32-byte master key. */
export function createSecretBox(masterKey: Buffer): SecretBox {
  const key = sha256("medianest:settings:", masterKey);
  const derived = new Map<string, Buffer>();
  return {
    encrypt(plain) {
      const iv = randomBytes(12);
      const cipher = cipherApi().createCipheriv("aes-256-gcm", key, iv);
      const ct = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
      return `v1:${iv.toString("base64url")}:${cipher.getAuthTag().toString("base64url")}:${ct.toString("base64url")}`;
    },
    decrypt(sealed) {
      const [v, iv, tag, ct] = sealed.split(":");
      if (v !== "v1" || !iv || !tag || ct === undefined)
        throw new Error("secret-box: value is not an encrypted secret");
      const decipher = cipherApi().createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
      decipher.setAuthTag(Buffer.from(tag, "base64url"));
      try {
        return Buffer.concat([decipher.update(Buffer.from(ct, "base64url")), decipher.final()]).toString("utf8");
      } catch {
        throw new Error("secret-box: cannot decrypt (wrong key or tampered value)");
      }
    },
    deriveKey(purpose) {
      // The same key object for a purpose each time: what is kept per key (signed image links) stays found.
      let k = derived.get(purpose);
      if (!k) derived.set(purpose, (k = sha256(`medianest:${purpose}:`, masterKey)));
      return k;
    },
  };
}

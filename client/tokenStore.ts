// Tokens on disk, never in plain text: AES-256-GCM over the JSON, with a 256-bit key that is
// either read from a key file (created once, mode 0600) or derived with scrypt from a passphrase
// in the environment. The file records which kind of key it was sealed with and, for a
// passphrase, its salt, so opening with the wrong one fails with TokenStoreError("wrong_key")
// instead of returning garbage (GCM's tag authenticates the whole record).
import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { TokenStoreError } from "./errors";

/** What a connection needs to keep: the pair, when the access token ends, and whom it talks to. */
export interface StoredTokens {
  /** The authorization server's issuer (the site URL). */
  issuer: string;
  /** The instance id this pair was issued to (`dex-...`). */
  clientId: string;
  accessToken: string;
  refreshToken: string;
  /** Epoch ms when the access token expires. */
  expiresAt: number;
  scope: string;
  connectedAt: number;
}

export interface TokenStore {
  load(): Promise<StoredTokens | null>;
  save(tokens: StoredTokens): Promise<void>;
  clear(): Promise<void>;
}

const VERSION = 1;
/** Binds the ciphertext to its purpose: a blob sealed for something else does not open here. */
const AAD = Buffer.from("poindexter-dex/token-store/v1");
const SCRYPT = { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

interface Sealed {
  v: number;
  key: "file" | "passphrase";
  salt?: string;
  iv: string;
  tag: string;
  data: string;
}

export type KeySource = { keyFile: string } | { passphrase: string };

/** Writes a file readable by its owner only, atomically (a crash leaves the old file or the new one). */
function writePrivate(file: string, data: string | Buffer): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  writeFileSync(tmp, data, { mode: 0o600 });
  // The mode argument is masked by umask; chmod makes it exact.
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

/** The key file's 32 bytes, creating the file (0600, exclusive) the first time. */
export function keyFromFile(keyFile: string): Buffer {
  let text: string;
  try {
    text = readFileSync(keyFile, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw new TokenStoreError("key_file", `Cannot read the key file ${keyFile}: ${(e as Error).message}`);
    mkdirSync(path.dirname(keyFile), { recursive: true, mode: 0o700 });
    try {
      // `wx`: two processes starting at once cannot each create (and use) a different key.
      writeFileSync(keyFile, randomBytes(32).toString("base64") + "\n", { mode: 0o600, flag: "wx" });
      chmodSync(keyFile, 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw new TokenStoreError("key_file", `Cannot create the key file ${keyFile}: ${(err as Error).message}`);
    }
    text = readFileSync(keyFile, "utf8");
  }
  const key = Buffer.from(text.trim(), "base64");
  if (key.length !== 32) throw new TokenStoreError("key_file", `The key file ${keyFile} does not hold a 32-byte base64 key.`);
  return key;
}

function isStoredTokens(x: unknown): x is StoredTokens {
  const t = x as Record<string, unknown>;
  return (
    typeof t === "object" &&
    t !== null &&
    typeof t.issuer === "string" &&
    typeof t.clientId === "string" &&
    typeof t.accessToken === "string" &&
    typeof t.refreshToken === "string" &&
    typeof t.expiresAt === "number" &&
    typeof t.scope === "string" &&
    typeof t.connectedAt === "number"
  );
}

/** A token store in one file, sealed with AES-256-GCM. */
export class EncryptedFileStore implements TokenStore {
  constructor(
    readonly file: string,
    private readonly source: KeySource,
  ) {
    if ("passphrase" in source && source.passphrase.length < 8) {
      throw new TokenStoreError("wrong_key", "The token passphrase must be at least 8 characters.");
    }
  }

  private keyFor(salt: Buffer | undefined): Buffer {
    if ("keyFile" in this.source) return keyFromFile(this.source.keyFile);
    return scryptSync(this.source.passphrase, salt!, 32, SCRYPT);
  }

  async load(): Promise<StoredTokens | null> {
    let raw: string;
    try {
      raw = readFileSync(this.file, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw e;
    }
    let sealed: Sealed;
    try {
      sealed = JSON.parse(raw) as Sealed;
    } catch {
      throw new TokenStoreError("corrupt", `${this.file} is not a token file.`);
    }
    if (sealed.v !== VERSION || typeof sealed.iv !== "string" || typeof sealed.tag !== "string" || typeof sealed.data !== "string") {
      throw new TokenStoreError("corrupt", `${this.file} is not a token file this version reads.`);
    }
    const kind = "keyFile" in this.source ? "file" : "passphrase";
    if (sealed.key !== kind) {
      throw new TokenStoreError(
        "wrong_key",
        sealed.key === "passphrase"
          ? `${this.file} was sealed with a passphrase: set DEX_TOKEN_PASSPHRASE to open it.`
          : `${this.file} was sealed with a key file: unset DEX_TOKEN_PASSPHRASE to open it.`,
      );
    }
    const key = this.keyFor(sealed.salt === undefined ? undefined : Buffer.from(sealed.salt, "base64"));
    let plain: Buffer;
    try {
      const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(sealed.iv, "base64"));
      decipher.setAAD(AAD);
      decipher.setAuthTag(Buffer.from(sealed.tag, "base64"));
      plain = Buffer.concat([decipher.update(Buffer.from(sealed.data, "base64")), decipher.final()]);
    } catch {
      throw new TokenStoreError("wrong_key", `Cannot decrypt ${this.file}: the key or passphrase is not the one it was sealed with (or the file was altered).`);
    }
    const tokens: unknown = JSON.parse(plain.toString("utf8"));
    if (!isStoredTokens(tokens)) throw new TokenStoreError("corrupt", `${this.file} decrypted to something that is not a token record.`);
    return tokens;
  }

  async save(tokens: StoredTokens): Promise<void> {
    const salt = "passphrase" in this.source ? randomBytes(16) : undefined;
    const key = this.keyFor(salt);
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", key, iv);
    cipher.setAAD(AAD);
    const data = Buffer.concat([cipher.update(JSON.stringify(tokens), "utf8"), cipher.final()]);
    const sealed: Sealed = {
      v: VERSION,
      key: salt === undefined ? "file" : "passphrase",
      ...(salt !== undefined ? { salt: salt.toString("base64") } : {}),
      iv: iv.toString("base64"),
      tag: cipher.getAuthTag().toString("base64"),
      data: data.toString("base64"),
    };
    writePrivate(this.file, JSON.stringify(sealed) + "\n");
  }

  async clear(): Promise<void> {
    rmSync(this.file, { force: true });
  }
}

/**
 * The store a Dex instance uses by default: `<dir>/tokens.enc`, keyed by DEX_TOKEN_PASSPHRASE
 * when it is set, else by `<dir>/token.key` (made on first use).
 */
export function defaultStore(dir: string, env: NodeJS.ProcessEnv = process.env): EncryptedFileStore {
  const passphrase = env.DEX_TOKEN_PASSPHRASE;
  return new EncryptedFileStore(path.join(dir, "tokens.enc"), passphrase ? { passphrase } : { keyFile: path.join(dir, "token.key") });
}

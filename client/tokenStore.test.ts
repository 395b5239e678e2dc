// The token store: sealed on disk (no token readable in the file), mode 0600, the key file made
// once with 0600, a wrong key or passphrase refused with a typed error, a tampered file refused.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TokenStoreError } from "./errors";
import { defaultStore, EncryptedFileStore, type StoredTokens } from "./tokenStore";

const TOKENS: StoredTokens = {
  issuer: "https://site.example",
  clientId: "dex-abcd1234",
  accessToken: "pdx_at_AccessTokenSecretValue0123456789abcdefghij",
  refreshToken: "pdx_rt_RefreshTokenSecretValue0123456789abcdefghi",
  expiresAt: 1_800_000_000_000,
  scope: "identity usage",
  connectedAt: 1_700_000_000_000,
};

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "dex-store-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const mode = (file: string) => statSync(file).mode & 0o777;

async function refusal(work: Promise<unknown>): Promise<string> {
  try {
    await work;
    return "opened";
  } catch (e) {
    expect(e).toBeInstanceOf(TokenStoreError);
    return (e as TokenStoreError).code;
  }
}

describe("EncryptedFileStore", () => {
  it("round-trips through a key file; file and key are 0600 and the file holds no token", async () => {
    const store = defaultStore(dir, {});
    expect(await store.load()).toBeNull();
    await store.save(TOKENS);
    expect(await store.load()).toEqual(TOKENS);
    const file = path.join(dir, "tokens.enc");
    const text = readFileSync(file, "utf8");
    expect(text).not.toContain("pdx_at_");
    expect(text).not.toContain("pdx_rt_");
    expect(text).not.toContain(Buffer.from(TOKENS.accessToken).toString("base64").slice(0, 20));
    expect(mode(file)).toBe(0o600);
    expect(mode(path.join(dir, "token.key"))).toBe(0o600);
    // A second save draws a new IV: the same tokens never give the same bytes.
    await store.save(TOKENS);
    expect(readFileSync(file, "utf8")).not.toBe(text);
    await store.clear();
    expect(await store.load()).toBeNull();
  });

  it("another key file cannot open it", async () => {
    const file = path.join(dir, "tokens.enc");
    await new EncryptedFileStore(file, { keyFile: path.join(dir, "a.key") }).save(TOKENS);
    expect(await refusal(new EncryptedFileStore(file, { keyFile: path.join(dir, "b.key") }).load())).toBe("wrong_key");
  });

  it("a passphrase seals with scrypt; the wrong passphrase or a key file is refused", async () => {
    const store = defaultStore(dir, { DEX_TOKEN_PASSPHRASE: "correct horse battery" });
    await store.save(TOKENS);
    expect(await store.load()).toEqual(TOKENS);
    expect(mode(path.join(dir, "tokens.enc"))).toBe(0o600);
    expect(await refusal(defaultStore(dir, { DEX_TOKEN_PASSPHRASE: "wrong horse battery" }).load())).toBe("wrong_key");
    expect(await refusal(defaultStore(dir, {}).load())).toBe("wrong_key");
    expect(() => defaultStore(dir, { DEX_TOKEN_PASSPHRASE: "short" })).toThrow(TokenStoreError);
  });

  it("a file altered on disk, or not a token file, is refused", async () => {
    const store = defaultStore(dir, {});
    await store.save(TOKENS);
    const file = path.join(dir, "tokens.enc");
    const sealed = JSON.parse(readFileSync(file, "utf8")) as { data: string };
    const bytes = Buffer.from(sealed.data, "base64");
    bytes[0] ^= 1;
    writeFileSync(file, JSON.stringify({ ...sealed, data: bytes.toString("base64") }));
    expect(await refusal(store.load())).toBe("wrong_key");
    writeFileSync(file, "not json");
    expect(await refusal(store.load())).toBe("corrupt");
  });

  it("a key file that is not a 32-byte key is refused", async () => {
    writeFileSync(path.join(dir, "token.key"), "too short\n", { mode: 0o600 });
    expect(await refusal(defaultStore(dir, {}).save(TOKENS))).toBe("key_file");
  });
});

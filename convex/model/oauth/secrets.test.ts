import { describe, expect, it } from "vitest";
import { kindOf, newSecret, newUserCode, normalizeUserCode, secretHash, USER_CODE_ALPHABET } from "./secrets";
import { openSuccessor, sealSuccessor } from "./successor";

describe("OAuth secrets", () => {
  it("are prefixed by kind and recognised only in full", () => {
    const access = newSecret("access");
    expect(access).toMatch(/^pdx_at_[0-9A-Za-z]{43}$/);
    expect(kindOf(access)).toBe("access");
    expect(kindOf(newSecret("refresh"))).toBe("refresh");
    expect(kindOf(newSecret("code"))).toBe("code");
    expect(kindOf(newSecret("device"))).toBe("device");
    expect(kindOf(access.slice(0, -1))).toBeNull();
    expect(kindOf(`${access.slice(0, -1)}!`)).toBeNull();
    expect(kindOf("pk_live_abc")).toBeNull();
    expect(newSecret("access")).not.toBe(access);
  });

  it("hash with a key from ENCRYPTION_KEY, so another key gives another hash", async () => {
    const token = newSecret("access");
    const a = await secretHash(token, "key-one");
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(await secretHash(token, "key-one")).toBe(a);
    expect(await secretHash(token, "key-two")).not.toBe(a);
    expect(await secretHash(token, undefined)).not.toBe(a);
    expect(a).not.toContain(token);
  });

  it("user codes are 8 consonants in two groups and typed loosely", () => {
    const code = newUserCode();
    expect(code).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    expect(normalizeUserCode(code.toLowerCase().replace("-", " "))).toBe(code);
    expect(normalizeUserCode(code.replace("-", ""))).toBe(code);
    expect(normalizeUserCode("BCDF-GHJA")).toBeNull();
    expect(normalizeUserCode("BCDF-GHJ")).toBeNull();
  });

  it("user codes draw each letter equally (bytes past 239 are skipped)", () => {
    let n = 0;
    const bytes = (b: Uint8Array) => b.map(() => [255, 240, 0, 19, 20, 239][n++ % 6]);
    expect(newUserCode(bytes)).toBe(`${USER_CODE_ALPHABET[0]}${USER_CODE_ALPHABET[19]}${USER_CODE_ALPHABET[0]}${USER_CODE_ALPHABET[19]}-${USER_CODE_ALPHABET[0]}${USER_CODE_ALPHABET[19]}${USER_CODE_ALPHABET[0]}${USER_CODE_ALPHABET[19]}`);
  });
});

describe("sealed successor pairs", () => {
  it("open only with the refresh token they replace, bound to its hash", async () => {
    const old = newSecret("refresh");
    const pair = { accessToken: newSecret("access"), refreshToken: newSecret("refresh") };
    const sealed = await sealSuccessor(old, "hash-of-old", pair);
    expect(sealed).not.toContain(pair.accessToken);
    expect(sealed).not.toContain(pair.refreshToken);
    expect(await openSuccessor(old, "hash-of-old", sealed)).toEqual(pair);
    expect(await openSuccessor(newSecret("refresh"), "hash-of-old", sealed)).toBeNull();
    expect(await openSuccessor(old, "another-hash", sealed)).toBeNull();
    // Alter the first character of the ciphertext: all of its bits are data.
    const [iv, data] = sealed.split(".");
    expect(await openSuccessor(old, "hash-of-old", `${iv}.${data.startsWith("A") ? "B" : "A"}${data.slice(1)}`)).toBeNull();
    expect(await openSuccessor(old, "hash-of-old", "garbage")).toBeNull();
  });
});

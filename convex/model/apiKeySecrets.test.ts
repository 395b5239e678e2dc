import { describe, expect, it } from "vitest";
import {
  BASE62,
  bearerToken,
  constantTimeEqual,
  displayPrefix,
  environmentOf,
  generateSecret,
  hashSecret,
  isWellFormedSecret,
  randomBase62,
  SECRET_RANDOM_CHARS,
} from "./apiKeySecrets";

describe("API key secrets", () => {
  it("have the environment prefix and 43 base62 characters (>= 256 bits)", () => {
    const live = generateSecret("live");
    const test = generateSecret("test");
    expect(live).toMatch(/^pk_live_[0-9A-Za-z]{43}$/);
    expect(test).toMatch(/^pk_test_[0-9A-Za-z]{43}$/);
    expect(SECRET_RANDOM_CHARS * Math.log2(62)).toBeGreaterThanOrEqual(256);
    expect(environmentOf(live)).toBe("live");
    expect(environmentOf(test)).toBe("test");
    expect(isWellFormedSecret(live)).toBe(true);
    expect(isWellFormedSecret(live + "x")).toBe(false);
    expect(isWellFormedSecret("sk-" + live.slice(3))).toBe(false);
  });

  it("are distinct across many draws", () => {
    const seen = new Set(Array.from({ length: 2000 }, () => generateSecret("live")));
    expect(seen.size).toBe(2000);
  });

  it("reject bytes >= 248 instead of folding them with a modulo", () => {
    // A source that offers 255, 248, 0, 61, 247 repeatedly: only 0, 61 and 247 are usable.
    const source = (bytes: Uint8Array) => {
      const pattern = [255, 248, 0, 61, 247];
      bytes.forEach((_, i) => (bytes[i] = pattern[i % pattern.length]));
      return bytes;
    };
    const out = randomBase62(6, source);
    expect(out).toBe([0, 61, 247 % 62, 0, 61, 247 % 62].map((i) => BASE62[i]).join(""));
  });

  it("spread characters evenly over the alphabet", () => {
    const counts = new Map<string, number>();
    const text = randomBase62(62 * 400);
    for (const c of text) counts.set(c, (counts.get(c) ?? 0) + 1);
    expect(counts.size).toBe(62);
    // Expected 400 each; a modulo bias would put 0-7 near 500.
    for (const n of counts.values()) expect(n).toBeLessThan(520);
  });

  it("hash to SHA-256 hex", async () => {
    expect(await hashSecret("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const s = generateSecret("live");
    expect(await hashSecret(s)).toMatch(/^[0-9a-f]{64}$/);
    expect(await hashSecret(s)).toBe(await hashSecret(s));
  });

  it("show a 16-character display prefix", () => {
    const s = generateSecret("live");
    expect(displayPrefix(s)).toBe(s.slice(0, 16));
    expect(displayPrefix(s).startsWith("pk_live_")).toBe(true);
  });

  it("compare in constant time and exactly", () => {
    expect(constantTimeEqual("abcdef", "abcdef")).toBe(true);
    expect(constantTimeEqual("abcdef", "abcdeg")).toBe(false);
    expect(constantTimeEqual("abcdef", "abcde")).toBe(false);
    expect(constantTimeEqual("", "")).toBe(true);
    expect(constantTimeEqual("a", "")).toBe(false);
  });

  it("are read from a Bearer header", () => {
    expect(bearerToken("Bearer pk_live_x")).toBe("pk_live_x");
    expect(bearerToken("bearer  pk_live_x ")).toBe("pk_live_x");
    expect(bearerToken("Basic abc")).toBeNull();
    expect(bearerToken(null)).toBeNull();
  });
});

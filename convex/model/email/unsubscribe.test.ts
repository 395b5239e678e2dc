import { describe, expect, test } from "vitest";
import { base64UrlDecode, base64UrlEncode, signUnsubscribeToken, verifyUnsubscribeToken } from "./unsubscribe";

const SECRET = "a-test-secret";
const USER = "k57c3x2v9d1e0f7g8h6j5k4m3n2p1q0r";

describe("unsubscribe tokens", () => {
  test("round-trip: the token names the user it was signed for", async () => {
    const token = await signUnsubscribeToken(SECRET, USER);
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(new TextDecoder().decode(base64UrlDecode(token.split(".")[0])!)).toBe(`${USER}.marketing`);
    expect(await verifyUnsubscribeToken(SECRET, token)).toEqual({ userId: USER });
    // Deterministic: the same mail rendered twice carries the same link.
    expect(await signUnsubscribeToken(SECRET, USER)).toBe(token);
  });

  test("refuses a token changed in any part, or signed with another key", async () => {
    const token = await signUnsubscribeToken(SECRET, USER);
    const [payload, mac] = token.split(".");
    const otherPayload = base64UrlEncode(new TextEncoder().encode(`${USER.replace("k", "z")}.marketing`));
    const flipped = (s: string, i: number) => s.slice(0, i) + (s[i] === "A" ? "B" : "A") + s.slice(i + 1);
    for (const bad of [
      `${otherPayload}.${mac}`,
      `${payload}.${flipped(mac, 0)}`,
      `${payload}.${flipped(mac, mac.length - 1)}`,
      `${flipped(payload, 2)}.${mac}`,
      `${payload}.${mac}.extra`,
      `${payload}`,
      "",
      "!!!.???",
    ]) {
      expect(await verifyUnsubscribeToken(SECRET, bad)).toBeNull();
    }
    expect(await verifyUnsubscribeToken("another-secret", token)).toBeNull();
  });

  test("no key, no tokens: signing throws and nothing verifies", async () => {
    await expect(signUnsubscribeToken("", USER)).rejects.toThrow(/ENCRYPTION_KEY/);
    const token = await signUnsubscribeToken(SECRET, USER);
    expect(await verifyUnsubscribeToken("", token)).toBeNull();
  });

  test("base64url round-trips every byte and rejects other alphabets", () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(base64UrlDecode(base64UrlEncode(bytes))).toEqual(bytes);
    expect(base64UrlEncode(bytes)).not.toMatch(/[+/=]/);
    expect(base64UrlDecode("ab+/")).toBeNull();
    expect(base64UrlDecode("abcde")).toBeNull();
  });
});

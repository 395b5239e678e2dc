import { describe, expect, it } from "vitest";
import { hex, hmacSha256, keyedHex, purposeKey } from "./keyedHash";

const bytes = (s: string) => new TextEncoder().encode(s);

describe("hex", () => {
  it("writes every byte value as two lowercase digits, in order", () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(hex(all)).toBe(Buffer.from(all).toString("hex"));
    expect(hex(new Uint8Array([0, 15, 16, 255]))).toBe("000f10ff");
    expect(hex(new Uint8Array(0))).toBe("");
  });
});

describe("keyed hashes", () => {
  it("match the HMAC-SHA256 test vector of RFC 4231 (case 2)", async () => {
    expect(hex(await hmacSha256(bytes("Jefe"), bytes("what do ya want for nothing?")))).toBe(
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    );
  });

  it("give each purpose its own key from one secret", async () => {
    const a = await purposeKey("secret", "feature-a");
    const b = await purposeKey("secret", "feature-b");
    expect(hex(a)).not.toBe(hex(b));
    expect(hex(a)).toBe(hex(await purposeKey("secret", "feature-a")));
    expect(hex(a)).not.toBe(hex(await purposeKey("other", "feature-a")));
  });

  it("hash a value under a purpose's key, or under the label alone without a secret", async () => {
    const withSecret = await keyedHex("203.0.113.7", "secret", "feature-a");
    expect(withSecret).toBe(hex(await hmacSha256(await purposeKey("secret", "feature-a"), bytes("203.0.113.7"))));
    expect(withSecret).not.toBe(await keyedHex("203.0.113.7", "secret", "feature-b"));
    const bare = await keyedHex("203.0.113.7", undefined, "feature-a");
    expect(bare).toBe(hex(await hmacSha256(bytes("feature-a"), bytes("203.0.113.7"))));
    expect(bare).toMatch(/^[0-9a-f]{64}$/);
  });
});

import { describe, expect, it } from "vitest";
import { base64UrlDecode, base64UrlEncode, isValidS256Challenge, isValidVerifier, s256Challenge } from "./pkce";

describe("PKCE S256", () => {
  it("matches the RFC 7636 appendix B vector", async () => {
    expect(await s256Challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")).toBe("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
  });
  it.each([
    ["a".repeat(42), false],
    ["a".repeat(43), true],
    ["a".repeat(128), true],
    ["a".repeat(129), false],
    [`${"a".repeat(42)}~`, true],
    [`${"a".repeat(42)}+`, false],
    [`${"a".repeat(42)}=`, false],
  ])("verifier of length %#", (verifier, ok) => expect(isValidVerifier(verifier)).toBe(ok));
  it("accepts only 43-character base64url challenges", () => {
    expect(isValidS256Challenge("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")).toBe(true);
    expect(isValidS256Challenge("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM=")).toBe(false);
    expect(isValidS256Challenge("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM")).toBe(false);
    expect(isValidS256Challenge("short")).toBe(false);
  });
  it("round-trips base64url", () => {
    const bytes = new Uint8Array([0, 251, 255, 62, 63, 1, 2]);
    expect(base64UrlEncode(bytes)).toBe("APv_Pj8BAg");
    expect([...base64UrlDecode(base64UrlEncode(bytes))]).toEqual([...bytes]);
  });
});

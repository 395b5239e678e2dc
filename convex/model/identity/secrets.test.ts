import { describe, expect, test } from "vitest";
import { captchaTokenProblem, generatePassword, seal, SealedSecretError, shortId, unseal, workspaceAddress } from "./secrets";

const KEY = "dGVzdC1lbmNyeXB0aW9uLWtleS0zMi1ieXRlcy1sb25nIQ==";

describe("sealed identity secrets", () => {
  test("round-trip, a fresh IV every time, and no plaintext in the sealed form", async () => {
    const a = await seal(KEY, "signalcaptcha://signal-hcaptcha.token");
    const b = await seal(KEY, "signalcaptcha://signal-hcaptcha.token");
    expect(a).not.toBe(b);
    expect(a).not.toContain("hcaptcha");
    expect(await unseal(KEY, a)).toBe("signalcaptcha://signal-hcaptcha.token");
  });

  test("another key, an altered value or garbage do not open", async () => {
    const sealed = await seal(KEY, "123456");
    await expect(unseal("another-key-entirely", sealed)).rejects.toBeInstanceOf(SealedSecretError);
    const [v, iv, body] = sealed.split(".");
    // Alter the body's first character: all six of its bits are data (a character near the end
    // may carry only padding bits, and changing those changes no byte).
    const flipped = `${v}.${iv}.${body.startsWith("A") ? "B" : "A"}${body.slice(1)}`;
    await expect(unseal(KEY, flipped)).rejects.toBeInstanceOf(SealedSecretError);
    await expect(unseal(KEY, "123456")).rejects.toBeInstanceOf(SealedSecretError);
    await expect(seal("", "x")).rejects.toThrow(/ENCRYPTION_KEY/);
  });
});

describe("workspace address and password", () => {
  test("dex-<8 chars>@domain, lowercase", () => {
    const id = shortId();
    expect(id).toMatch(/^[a-z2-9]{8}$/);
    expect(workspaceAddress(id, "@Dex.Example.COM")).toBe(`dex-${id}@dex.example.com`);
    expect(new Set(Array.from({ length: 200 }, shortId)).size).toBe(200);
  });

  test("passwords are 24 ASCII characters with every class", () => {
    for (let i = 0; i < 50; i++) {
      const pw = generatePassword();
      expect(pw).toHaveLength(24);
      expect(pw).toMatch(/^[\x21-\x7e]+$/);
      expect(pw).toMatch(/[A-Z]/);
      expect(pw).toMatch(/[a-z]/);
      expect(pw).toMatch(/\d/);
    }
  });
});

describe("captcha answers", () => {
  test.each([
    ["signalcaptcha://signal-hcaptcha.5fad97ac.registration.P1_eyJ", null],
    ["https://signalcaptchas.org/x", /must start with signalcaptcha/],
    ["signalcaptcha://x", /too short/],
    [`signalcaptcha://${"a".repeat(5000)}`, /longer than 4096/],
    ["signalcaptcha://abc def ghi jkl", /spaces/],
  ])("%s", (token, problem) => {
    const found = captchaTokenProblem(token);
    if (problem === null) expect(found).toBeNull();
    else expect(found).toMatch(problem);
  });
});

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { devEnv, parseEnvFile } from "./env.ts";

describe("parseEnvFile", () => {
  it("reads values, quotes and comments, and treats empty values as unset", () => {
    const text = [
      "# a comment",
      "A=1",
      'B="two words"',
      "C='x=y'",
      "D=plain # trailing comment",
      "export E=exported",
      "EMPTY=",
      "not a line",
    ].join("\n");
    expect(parseEnvFile(text)).toEqual({ A: "1", B: "two words", C: "x=y", D: "plain", E: "exported" });
  });
});

describe("devEnv", () => {
  it("generates the dev secrets once and reuses them", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "dev-env-"));
    try {
      const first = devEnv(dir, "http://127.0.0.1:9");
      const second = devEnv(dir, "http://127.0.0.1:9");
      expect(second).toEqual(first);
      expect(first.OPENAI_BASE_URL).toBe("http://127.0.0.1:9/v1");
      // Mail goes to the simulator's email API (POST /emails at its root); links to the dashboard.
      expect(first.EMAIL_BASE_URL).toBe("http://127.0.0.1:9");
      expect(first.EMAIL_API_KEY).toMatch(/^re_/);
      expect(devEnv(dir, "http://127.0.0.1:9", "http://127.0.0.1:5999").APP_URL).toBe("http://127.0.0.1:5999");
      expect(Buffer.from(first.ENCRYPTION_KEY, "base64")).toHaveLength(32);
      const jwk = JSON.parse(first.DEV_AUTH_PRIVATE_JWK);
      expect(jwk).toMatchObject({ kty: "RSA", alg: "RS256" });
      expect(jwk.d).toBeTypeOf("string");
      expect(readFileSync(path.join(dir, "encryption_key"), "utf8").trim()).toBe(first.ENCRYPTION_KEY);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

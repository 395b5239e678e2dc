import { beforeAll, describe, expect, test } from "vitest";
import { createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify } from "jose";
import { api } from "../_generated/api";
import { newTest } from "../test.setup";

const SITE = "http://127.0.0.1:3211";

beforeAll(async () => {
  const { privateKey } = await generateKeyPair("RS256", { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: "test-key" };
  process.env.DEV_AUTH = "true";
  process.env.CONVEX_SITE_URL = SITE;
  process.env.DEV_AUTH_PRIVATE_JWK = JSON.stringify(jwk);
});

describe("dev issuer", () => {
  test("signs a token that verifies against the served JWKS, with the issuer auth.config trusts", async () => {
    const t = newTest();
    const res = await t.fetch("/dev-auth/token", {
      method: "POST",
      body: JSON.stringify({ email: "Ada@Example.com", role: "support" }),
    });
    expect(res.status).toBe(200);
    const { token, expiresIn } = await res.json();
    expect(expiresIn).toBe(3600);
    const jwks = await (await t.fetch("/.well-known/jwks.json")).json();
    expect(jwks.keys[0]).not.toHaveProperty("d"); // never the private half
    const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), {
      issuer: `${SITE}/dev-auth`,
      audience: "convex",
    });
    expect(payload).toMatchObject({ sub: "dev|ada@example.com", email: "ada@example.com", role: "support" });
  });

  test("rejects a malformed sign-in with a 400 and a message", async () => {
    const t = newTest();
    const bad = await t.fetch("/dev-auth/token", { method: "POST", body: JSON.stringify({ email: "nope" }) });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error).toMatch(/email/);
    const badRole = await t.fetch("/dev-auth/token", {
      method: "POST",
      body: JSON.stringify({ email: "a@b.co", role: "root" }),
    });
    expect(badRole.status).toBe(400);
  });

  test("a dev token's role claim sets the account's role on sign-in", async () => {
    const t = newTest();
    const agent = t.withIdentity({
      subject: "dev|agent@poindexter.dev",
      issuer: `${SITE}/dev-auth`,
      email: "agent@poindexter.dev",
      role: "support",
    } as never);
    await agent.mutation(api.signup.account.ensure, {});
    expect((await agent.query(api.users.viewer.get, {}))!.role).toBe("support");
  });
});

import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SignJWT, exportJWK, generateKeyPair } from "jose";
import { AuthTokenError, JwtVerifier, identityFromClaims } from "./auth.ts";

describe("identityFromClaims", () => {
  it("maps standard claims to UserIdentity names and keeps custom claims", () => {
    expect(
      identityFromClaims({ iss: "https://i", sub: "u1", aud: "convex", exp: 1, email: "a@b.c", email_verified: true, name: "A", role: "admin" }),
    ).toEqual({
      subject: "u1",
      issuer: "https://i",
      tokenIdentifier: "https://i|u1",
      email: "a@b.c",
      emailVerified: true,
      name: "A",
      role: "admin",
    });
  });
});

describe("JwtVerifier", () => {
  let server: http.Server;
  let issuer: string;
  let key: CryptoKey;
  let verifier: JwtVerifier;

  beforeAll(async () => {
    const pair = await generateKeyPair("RS256");
    key = pair.privateKey as CryptoKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: "k", alg: "RS256" };
    server = http.createServer((_q, r) => r.end(JSON.stringify({ keys: [jwk] })));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    verifier = new JwtVerifier([{ issuer, jwks: `${issuer}/jwks`, applicationID: "convex", algorithm: "RS256" }]);
  });
  afterAll(() => void server.close());

  const sign = (claims: { aud?: string; exp?: string; iss?: string }) =>
    new SignJWT({ email: "a@b.c" })
      .setProtectedHeader({ alg: "RS256", kid: "k" })
      .setIssuer(claims.iss ?? issuer)
      .setSubject("s")
      .setAudience(claims.aud ?? "convex")
      .setIssuedAt()
      .setExpirationTime(claims.exp ?? "5m")
      .sign(key);

  it("accepts a token signed by the provider's key", async () => {
    expect(await verifier.verify(await sign({}))).toMatchObject({ tokenIdentifier: `${issuer}|s`, email: "a@b.c" });
  });

  it("rejects the wrong audience, an expired token, an unknown issuer and garbage", async () => {
    await expect(verifier.verify(await sign({ aud: "other" }))).rejects.toThrow(AuthTokenError);
    await expect(verifier.verify(await sign({ exp: "-1m" }))).rejects.toThrow(/exp|expired/i);
    await expect(verifier.verify(await sign({ iss: "https://elsewhere" }))).rejects.toThrow(/No auth provider/);
    await expect(verifier.verify("not-a-jwt")).rejects.toThrow(/not a JWT/);
  });
});

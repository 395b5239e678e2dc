// JWT verification the way a Convex deployment does it: the providers come from
// convex/auth.config.ts evaluated with the deployment's env; a token is accepted
// when its signature checks against the provider's JWKS, `iss` matches and `aud`
// is the provider's applicationID.
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from "jose";
import type { UserIdentity } from "convex/server";
import * as esbuild from "esbuild";
import { existsSync } from "node:fs";
import path from "node:path";
import { runInNewContext } from "node:vm";

export interface AuthProvider {
  issuer: string;
  applicationID?: string;
  jwks: string;
  algorithm?: string;
}

export class AuthTokenError extends Error {}

/** Evaluates auth.config.ts with `process.env` = the functions' env. */
export async function loadAuthProviders(functionsDir: string, env: Record<string, string>): Promise<AuthProvider[]> {
  const file = path.join(functionsDir, "auth.config.ts");
  if (!existsSync(file)) return [];
  const out = await esbuild.build({
    entryPoints: [file],
    bundle: true,
    write: false,
    format: "cjs",
    platform: "neutral",
    logLevel: "silent",
  });
  const module = { exports: {} as { default?: { providers?: Record<string, string>[] } } };
  runInNewContext(out.outputFiles[0].text, { module, exports: module.exports, process: { env: { ...env } } });
  const providers = module.exports.default?.providers ?? [];
  return providers.map((p) => {
    if (p.type === "customJwt") {
      return { issuer: p.issuer, applicationID: p.applicationID, jwks: p.jwks, algorithm: p.algorithm };
    }
    // OIDC provider (Clerk): the domain is the issuer; keys at the discovery default.
    const domain = p.domain.replace(/\/$/, "");
    return { issuer: domain, applicationID: p.applicationID, jwks: `${domain}/.well-known/jwks.json` };
  });
}

/** Claims with their own UserIdentity field; everything else passes through as a custom claim. */
const STANDARD_CLAIMS: Record<string, string> = {
  name: "name",
  given_name: "givenName",
  family_name: "familyName",
  nickname: "nickname",
  preferred_username: "preferredUsername",
  profile: "profileUrl",
  picture: "pictureUrl",
  email: "email",
  email_verified: "emailVerified",
  gender: "gender",
  birthdate: "birthday",
  zoneinfo: "timezone",
  locale: "language",
  phone_number: "phoneNumber",
  phone_number_verified: "phoneNumberVerified",
  address: "address",
  updated_at: "updatedAt",
};
const DROPPED = new Set(["iss", "sub", "aud", "exp", "iat", "nbf", "jti", "azp"]);

export function identityFromClaims(payload: JWTPayload): UserIdentity {
  const identity: Record<string, unknown> = {
    subject: payload.sub,
    issuer: payload.iss,
    tokenIdentifier: `${payload.iss}|${payload.sub}`,
  };
  for (const [claim, value] of Object.entries(payload)) {
    if (DROPPED.has(claim)) continue;
    identity[STANDARD_CLAIMS[claim] ?? claim] = value;
  }
  return identity as unknown as UserIdentity;
}

export class JwtVerifier {
  private jwks = new Map<string, ReturnType<typeof createRemoteJWKSet>>();
  constructor(private providers: AuthProvider[]) {}

  async verify(token: string): Promise<UserIdentity> {
    if (this.providers.length === 0) {
      throw new AuthTokenError("No auth providers are configured in convex/auth.config.ts; tokens cannot be verified.");
    }
    let claims: JWTPayload;
    try {
      const [, payload] = token.split(".");
      claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
    } catch {
      throw new AuthTokenError("Could not parse the token: it is not a JWT.");
    }
    const provider = this.providers.find((p) => p.issuer === claims.iss);
    if (!provider) {
      throw new AuthTokenError(
        `No auth provider found matching the given token (issuer ${JSON.stringify(claims.iss)}; ` +
          `configured: ${this.providers.map((p) => p.issuer).join(", ")}).`,
      );
    }
    let keys = this.jwks.get(provider.jwks);
    if (!keys) {
      keys = createRemoteJWKSet(new URL(provider.jwks), { cooldownDuration: 1000 });
      this.jwks.set(provider.jwks, keys);
    }
    try {
      const { payload } = await jwtVerify(token, keys, {
        issuer: provider.issuer,
        audience: provider.applicationID,
        algorithms: provider.algorithm ? [provider.algorithm] : undefined,
      });
      if (!payload.sub) throw new AuthTokenError("The token has no `sub` claim.");
      return identityFromClaims(payload);
    } catch (e) {
      if (e instanceof AuthTokenError) throw e;
      throw new AuthTokenError(`Token verification failed: ${(e as Error).message}`);
    }
  }
}

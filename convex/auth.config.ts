import type { AuthConfig } from "convex/server";

// Two issuers, each only when configured:
// - Clerk in production (JWT template named "convex").
// - The dev issuer when DEV_AUTH=true: this deployment signs its own tokens
//   (see convex/devAuth.ts) and serves the public key at /.well-known/jwks.json.
const providers: AuthConfig["providers"] = [];

if (process.env.CLERK_JWT_ISSUER_DOMAIN) {
  providers.push({
    domain: process.env.CLERK_JWT_ISSUER_DOMAIN,
    applicationID: "convex",
  });
}

if (process.env.DEV_AUTH === "true" && process.env.CONVEX_SITE_URL) {
  providers.push({
    type: "customJwt",
    issuer: `${process.env.CONVEX_SITE_URL}/dev-auth`,
    jwks: `${process.env.CONVEX_SITE_URL}/.well-known/jwks.json`,
    algorithm: "RS256",
    applicationID: "convex",
  });
}

export default { providers } satisfies AuthConfig;

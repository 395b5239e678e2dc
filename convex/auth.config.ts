import type { AuthConfig } from "convex/server";
import { devIssuer, devJwksUrl } from "./model/auth/devIssuer";

// Two issuers, each only when configured:
// - Clerk in production (JWT template named "convex").
// - The dev issuer when DEV_AUTH=true: this deployment signs its own tokens
//   (convex/devAuth/issuer.ts) and serves the public key at /.well-known/jwks.json.
const providers: AuthConfig["providers"] = [];

if (process.env.CLERK_JWT_ISSUER_DOMAIN) {
  providers.push({
    domain: process.env.CLERK_JWT_ISSUER_DOMAIN,
    applicationID: "convex",
  });
}

const issuer = devIssuer(process.env);
const jwks = devJwksUrl(process.env);
if (issuer !== null && jwks !== null) {
  providers.push({ type: "customJwt", issuer, jwks, algorithm: "RS256", applicationID: "convex" });
}

export default { providers } satisfies AuthConfig;

// The one dev-auth decision: whether this deployment signs its own dev sign-in tokens, and the
// issuer those tokens carry. auth.config.ts, the router and the viewer all ask here. Pure.

export interface DevAuthEnv {
  DEV_AUTH?: string;
  CONVEX_SITE_URL?: string;
}

function siteUrl(env: DevAuthEnv): string | null {
  if (env.DEV_AUTH !== "true" || !env.CONVEX_SITE_URL) return null;
  return env.CONVEX_SITE_URL.replace(/\/+$/, "");
}

/** The dev issuer URL when DEV_AUTH=true and the site URL is known; otherwise null. */
export function devIssuer(env: DevAuthEnv): string | null {
  const site = siteUrl(env);
  return site === null ? null : `${site}/dev-auth`;
}

/** Where the dev issuer's public key is served (null when dev auth is off). */
export function devJwksUrl(env: DevAuthEnv): string | null {
  const site = siteUrl(env);
  return site === null ? null : `${site}/.well-known/jwks.json`;
}

/** True when a verified identity was issued by this deployment's dev issuer. */
export function isDevIdentity(identity: { issuer: string }, env: DevAuthEnv): boolean {
  const issuer = devIssuer(env);
  return issuer !== null && identity.issuer === issuer;
}

// The dev issuer: when DEV_AUTH=true this deployment signs its own RS256 tokens
// (key from DEV_AUTH_PRIVATE_JWK) and serves the public key, so the unmodified
// Convex client authenticates offline exactly as it does with Clerk.
// With DEV_AUTH unset, http.ts does not mount these routes at all.
import { SignJWT, importJWK } from "jose";
import { httpAction } from "./_generated/server";
import { type Jwk, devSubject, parseDevSignIn, publicJwk } from "./model/devJwt";

const TOKEN_TTL_SECONDS = 60 * 60;

export function devAuthEnabled(): boolean {
  return process.env.DEV_AUTH === "true";
}

function privateJwk(): Jwk {
  const raw = process.env.DEV_AUTH_PRIVATE_JWK;
  if (!raw) throw new Error("DEV_AUTH=true needs DEV_AUTH_PRIVATE_JWK (an RSA private JWK as JSON).");
  return JSON.parse(raw) as Jwk;
}

function issuer(): string {
  const site = process.env.CONVEX_SITE_URL;
  if (!site) throw new Error("CONVEX_SITE_URL is not set; the dev issuer needs the site URL.");
  return `${site}/dev-auth`;
}

const CORS = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "GET, POST, OPTIONS",
  "access-control-allow-headers": "content-type, authorization",
};

function json(status: number, body: unknown, headers: Record<string, string> = {}) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...CORS, ...headers },
  });
}

export const jwks = httpAction(async () => {
  const jwk = publicJwk(privateJwk());
  return json(200, { keys: [jwk] }, { "cache-control": "public, max-age=60" });
});

export const token = httpAction(async (_ctx, request) => {
  let body: unknown;
  try {
    body = await request.json();
  } catch {
    return json(400, { error: "Send a JSON body: {\"email\": \"...\", \"role\": \"user\"}." });
  }
  const parsed = parseDevSignIn(body);
  if (typeof parsed === "string") return json(400, { error: parsed });
  const jwk = privateJwk();
  const key = await importJWK(jwk, "RS256");
  const jwt = await new SignJWT({
    email: parsed.email,
    name: parsed.name ?? parsed.email.split("@")[0],
    role: parsed.role,
  })
    .setProtectedHeader({ alg: "RS256", kid: jwk.kid, typ: "JWT" })
    .setIssuer(issuer())
    .setSubject(devSubject(parsed.email))
    .setAudience("convex")
    .setIssuedAt()
    .setExpirationTime(`${TOKEN_TTL_SECONDS}s`)
    .sign(key);
  return json(200, { token: jwt, expiresIn: TOKEN_TTL_SECONDS });
});

export const preflight = httpAction(async () => new Response(null, { status: 204, headers: CORS }));

// The dev issuer: when DEV_AUTH=true this deployment signs its own RS256 tokens (key from
// DEV_AUTH_PRIVATE_JWK) and serves the public key, so the unmodified Convex client
// authenticates offline exactly as it does with Clerk. Without DEV_AUTH these routes are not
// mounted at all (model/auth/devIssuer.ts makes that decision for every caller).
import type { HttpRouter } from "convex/server";
import { SignJWT, importJWK } from "jose";
import { env, httpAction } from "../_generated/server";
import { type Jwk, devSubject, parseDevSignIn, publicJwk } from "../model/auth/devJwt";
import { devIssuer } from "../model/auth/devIssuer";
import { devAuthEnv } from "./env";

const TOKEN_TTL_SECONDS = 60 * 60;

function privateJwk(): Jwk {
  const raw = env.DEV_AUTH_PRIVATE_JWK;
  if (!raw) throw new Error("DEV_AUTH=true needs DEV_AUTH_PRIVATE_JWK (an RSA private JWK as JSON).");
  return JSON.parse(raw) as Jwk;
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

async function jwksHandler(): Promise<Response> {
  return json(200, { keys: [publicJwk(privateJwk())] }, { "cache-control": "public, max-age=60" });
}

async function tokenHandler(_ctx: unknown, request: Request): Promise<Response> {
  const issuer = devIssuer(devAuthEnv());
  if (issuer === null) return json(404, { error: "Dev sign-in is off on this deployment." });
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
    .setIssuer(issuer)
    .setSubject(devSubject(parsed.email))
    .setAudience("convex")
    .setIssuedAt()
    .setExpirationTime(`${TOKEN_TTL_SECONDS}s`)
    .sign(key);
  return json(200, { token: jwt, expiresIn: TOKEN_TTL_SECONDS });
}

const jwks = httpAction(jwksHandler);
const token = httpAction(tokenHandler);
async function preflightHandler(): Promise<Response> {
  return new Response(null, { status: 204, headers: CORS });
}

const preflight = httpAction(preflightHandler);

/** Mounts the dev issuer's routes, only on deployments that opted in; production never serves them. */
export function mountDevAuthRoutes(http: HttpRouter): void {
  if (devIssuer(devAuthEnv()) === null) return;
  http.route({ path: "/.well-known/jwks.json", method: "GET", handler: jwks });
  http.route({ path: "/dev-auth/token", method: "POST", handler: token });
  http.route({ path: "/dev-auth/token", method: "OPTIONS", handler: preflight });
}

// Pure helpers for the dev issuer: which JWK fields are public, and the claims a
// dev sign-in token carries. Signing itself happens in convex/devAuth.ts.
import { normalizeEmail } from "../accounts/email";

const PRIVATE_RSA_FIELDS = ["d", "p", "q", "dp", "dq", "qi"] as const;

export interface Jwk {
  kty: string;
  kid?: string;
  [field: string]: unknown;
}

/** The public half of an RSA private JWK, as served from the JWKS endpoint. */
export function publicJwk(privateJwk: Jwk): Jwk {
  if (privateJwk.kty !== "RSA") throw new Error("DEV_AUTH_PRIVATE_JWK must be an RSA key (RS256).");
  const pub: Jwk = { ...privateJwk, use: "sig", alg: "RS256" };
  for (const f of PRIVATE_RSA_FIELDS) delete pub[f];
  return pub;
}

export type DevRole = "user" | "support" | "admin";

export interface DevSignInRequest {
  email: string;
  name?: string;
  role: DevRole;
}

/** Validates the dev sign-in form's body; returns an error message or the request. */
export function parseDevSignIn(body: unknown): DevSignInRequest | string {
  if (typeof body !== "object" || body === null) return "Send a JSON object with email and role.";
  const b = body as Record<string, unknown>;
  const email = typeof b.email === "string" ? normalizeEmail(b.email) : null;
  if (email === null) return "email must be an email address, like ada@example.com.";
  const role = b.role ?? "user";
  if (role !== "user" && role !== "support" && role !== "admin") {
    return "role must be one of user, support, admin.";
  }
  const name = typeof b.name === "string" && b.name.trim() ? b.name.trim().slice(0, 100) : undefined;
  return { email, name, role };
}

/** Dev subjects are stable per email so a returning dev user gets the same account. */
export function devSubject(email: string): string {
  return `dev|${email}`;
}

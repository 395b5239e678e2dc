// Lifetimes, scopes and the decisions on provider credentials and session tokens. The Convex
// functions load rows and apply the outcome; every rule lives here, table-tested. Pure.
//
// A provider credential:
//
//   active --(cron: expiresAt - overlap reached; the holder's POST; support "rotate")--> rotating
//   rotating --(overlapEndsAt passed: the sweep)--> revoked (reason "rotated")
//   active | rotating --(support "revoke", account deleted)--> revoked
//
// While rotating the credential still works (the overlap window) and every proxied answer
// tells its holder to fetch the successor; the successor is minted by the holder's next
// POST /api/provisioning/token, the only moment its plain token can exist.
import { type Endpoint, isPriced, PRICE_BOOK, type ProviderId, PROVIDER_IDS, endpointOf, providerOf } from "../pricing";

export const HOUR_MS = 60 * 60_000;
export const DEFAULT_CREDENTIAL_TTL_HOURS = 24;
export const DEFAULT_CREDENTIAL_OVERLAP_MINUTES = 60;
/** Browser session tokens (POST /api/session) live 15 minutes. */
export const DEFAULT_SESSION_TTL_MINUTES = 15;

export class CredentialConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CredentialConfigError";
  }
}

export interface CredentialTimes {
  ttlMs: number;
  overlapMs: number;
  sessionTtlMs: number;
}

function positive(env: Record<string, string | undefined>, name: string, fallback: number, unitMs: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return fallback * unitMs;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    throw new CredentialConfigError(`${name} must be a positive number (got '${raw}').`);
  }
  return Math.round(value * unitMs);
}

/**
 * CREDENTIAL_TTL_HOURS (default 24), CREDENTIAL_OVERLAP_MINUTES (default 60) and
 * SESSION_TOKEN_TTL_MINUTES (default 15); fractions are allowed (tests use seconds). The overlap
 * must be shorter than the lifetime, or a credential would be rotating from birth.
 */
export function credentialTimes(env: Record<string, string | undefined>): CredentialTimes {
  const ttlMs = positive(env, "CREDENTIAL_TTL_HOURS", DEFAULT_CREDENTIAL_TTL_HOURS, HOUR_MS);
  const overlapMs = positive(env, "CREDENTIAL_OVERLAP_MINUTES", DEFAULT_CREDENTIAL_OVERLAP_MINUTES, 60_000);
  const sessionTtlMs = positive(env, "SESSION_TOKEN_TTL_MINUTES", DEFAULT_SESSION_TTL_MINUTES, 60_000);
  if (overlapMs >= ttlMs) {
    throw new CredentialConfigError("CREDENTIAL_OVERLAP_MINUTES must be shorter than CREDENTIAL_TTL_HOURS.");
  }
  return { ttlMs, overlapMs, sessionTtlMs };
}

/** The endpoints each provider serves, from the price book: what a credential for it may be scoped to. */
export function endpointsOf(provider: ProviderId): Endpoint[] {
  const out = new Set<Endpoint>();
  for (const model of Object.keys(PRICE_BOOK)) {
    if (PRICE_BOOK[model].provider === provider) out.add(endpointOf(model));
  }
  return (["chat", "completion", "embedding", "speech"] as const).filter((e) => out.has(e));
}

export function isProviderId(value: string): value is ProviderId {
  return (PROVIDER_IDS as readonly string[]).includes(value);
}

/**
 * The scopes a new credential gets: all the provider serves when none are asked for; else the
 * ones asked for, each of which the provider must serve (an error message otherwise).
 */
export function resolveScopes(provider: ProviderId, requested: readonly string[] | undefined): { ok: true; scopes: Endpoint[] } | { ok: false; message: string } {
  const served = endpointsOf(provider);
  if (requested === undefined || requested.length === 0) return { ok: true, scopes: served };
  const unknown = requested.filter((s) => !(served as string[]).includes(s));
  if (unknown.length > 0) {
    return {
      ok: false,
      message: `${provider} credentials can be scoped to ${served.join(", ")}; not ${unknown.join(", ")}.`,
    };
  }
  return { ok: true, scopes: served.filter((s) => requested.includes(s)) };
}

export type CredentialStatus = "active" | "rotating" | "revoked";

export interface StoredCredential {
  status: CredentialStatus;
  expiresAt: number;
  overlapEndsAt?: number;
}

export type UnusableWhy = "unknown" | "expired" | "revoked";

/** The moment a credential stops working: its expiry, or the end of its overlap once rotating. */
export function usableUntil(c: StoredCredential): number {
  return c.status === "rotating" && c.overlapEndsAt !== undefined ? Math.min(c.expiresAt, c.overlapEndsAt) : c.expiresAt;
}

/** Why a credential cannot be used at `now`, or null when it can. */
export function credentialRefusal(c: StoredCredential | null, now: number): UnusableWhy | null {
  if (c === null) return "unknown";
  if (c.status === "revoked") return "revoked";
  if (now >= usableUntil(c)) return "expired";
  return null;
}

/** A session token: revoked (sign-out, account deleted) or past its 15 minutes. */
export function sessionRefusal(s: { expiresAt: number; revokedAt?: number } | null, now: number): UnusableWhy | null {
  if (s === null) return "unknown";
  if (s.revokedAt !== undefined) return "revoked";
  if (now >= s.expiresAt) return "expired";
  return null;
}

/**
 * Whether a credential's scope covers a request: the model's provider must be the credential's,
 * and the endpoint one of its scopes. An unpriced model passes (the ledger refuses it as
 * model_not_found, the same answer every caller gets).
 */
export function scopeCovers(c: { provider: string; scopes: readonly string[] }, request: { model: string; kind: Endpoint }): boolean {
  if (!isPriced(request.model)) return true;
  return providerOf(request.model) === c.provider && c.scopes.includes(request.kind);
}

/** When the cron starts a credential's rotation: one overlap before it expires. */
export function rotationDueAt(c: { expiresAt: number }, times: Pick<CredentialTimes, "overlapMs">): number {
  return c.expiresAt - times.overlapMs;
}

/**
 * The rotating state a credential moves to at `now`: it keeps working for one overlap (never
 * past its own expiry).
 */
export function startRotation(c: { expiresAt: number }, now: number, times: Pick<CredentialTimes, "overlapMs">): { status: "rotating"; overlapEndsAt: number; lastRotatedAt: number } {
  return { status: "rotating", overlapEndsAt: Math.min(c.expiresAt, now + times.overlapMs), lastRotatedAt: now };
}

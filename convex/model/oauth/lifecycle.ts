// Lifetimes and the decisions the token endpoint makes on codes, refresh tokens and device codes.
// The Convex functions load the rows and apply the outcome; every rule lives here, table-tested.
// Pure: no Convex imports.

export const CODE_TTL_MS = 60_000;
export const ACCESS_TOKEN_TTL_MS = 60 * 60_000;
export const REFRESH_TOKEN_TTL_MS = 30 * 24 * 60 * 60_000;
/** A refresh token presented again within this long after it rotated returns the same new pair. */
export const REFRESH_GRACE_MS = 30_000;
export const DEVICE_CODE_TTL_MS = 10 * 60_000;
/** RFC 8628 3.2: the default polling interval is 5 s; slow_down adds 5 s (3.5). */
export const DEVICE_INTERVAL_SECONDS = 5;
export const SLOW_DOWN_STEP_SECONDS = 5;

export interface StoredCode {
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  expiresAt: number;
  usedAt?: number;
}

export interface PresentedCode {
  clientId: string;
  redirectUri: string;
  /** S256 of the verifier the client sent. */
  challenge: string;
}

export type CodeOutcome = "issue" | "reused" | "expired" | "client_mismatch" | "redirect_mismatch" | "pkce_mismatch";

/**
 * A code is good once, for 60 s, for the client and redirect URI it was issued to (RFC 6749
 * 4.1.3), with the verifier whose S256 is its challenge. A used code is "reused" whatever else
 * is wrong: that is the signal of a stolen code, and it revokes what the first use issued.
 */
export function redeemCode(code: StoredCode, presented: PresentedCode, now: number): CodeOutcome {
  if (code.usedAt !== undefined) return "reused";
  if (now >= code.expiresAt) return "expired";
  if (presented.clientId !== code.clientId) return "client_mismatch";
  if (presented.redirectUri !== code.redirectUri) return "redirect_mismatch";
  if (presented.challenge !== code.codeChallenge) return "pkce_mismatch";
  return "issue";
}

export interface StoredRefresh {
  expiresAt: number;
  revokedAt?: number;
  /** When this token was exchanged for its successor. */
  rotatedAt?: number;
}

export type RefreshOutcome = "rotate" | "replay" | "reuse" | "expired" | "revoked";

/**
 * RFC 9700 4.14.2 rotation with reuse detection, plus a grace window for racing refreshes: the
 * first use rotates; a repeat within REFRESH_GRACE_MS gets the same successor ("replay"); a
 * repeat after it is a stolen token ("reuse"), and the whole grant goes.
 */
export function refreshOutcome(token: StoredRefresh, grantRevoked: boolean, now: number): RefreshOutcome {
  if (grantRevoked || token.revokedAt !== undefined) return "revoked";
  if (token.rotatedAt !== undefined) return now - token.rotatedAt <= REFRESH_GRACE_MS ? "replay" : "reuse";
  if (now >= token.expiresAt) return "expired";
  return "rotate";
}

export type DeviceStatus = "pending" | "approved" | "denied" | "consumed";

export interface StoredDevice {
  status: DeviceStatus;
  expiresAt: number;
  intervalSeconds: number;
  lastPolledAt?: number;
}

export type DevicePollOutcome =
  | { outcome: "issue" }
  | { outcome: "authorization_pending" }
  | { outcome: "slow_down"; intervalSeconds: number }
  | { outcome: "expired_token" }
  | { outcome: "access_denied" }
  | { outcome: "consumed" };

/**
 * One poll of the token endpoint with a device code (RFC 8628 3.5). Expiry wins over everything
 * but a decision already made; a poll sooner than the interval since the last one is told to
 * slow down and the interval grows by 5 s for every later poll (an approved code is answered at once).
 */
export function devicePoll(device: StoredDevice, now: number): DevicePollOutcome {
  if (device.status === "consumed") return { outcome: "consumed" };
  if (device.status === "denied") return { outcome: "access_denied" };
  if (now >= device.expiresAt) return { outcome: "expired_token" };
  // An approved code is answered even when polled early: the tokens end the polling anyway.
  if (device.status === "approved") return { outcome: "issue" };
  if (device.lastPolledAt !== undefined && now - device.lastPolledAt < device.intervalSeconds * 1000) {
    return { outcome: "slow_down", intervalSeconds: device.intervalSeconds + SLOW_DOWN_STEP_SECONDS };
  }
  return { outcome: "authorization_pending" };
}

export interface StoredAccess {
  kind: "access" | "refresh";
  expiresAt: number;
  revokedAt?: number;
}

export type AccessRefusal = "unknown_token" | "not_access_token" | "expired" | "revoked";

/** Whether a bearer token authenticates a Dex API call now. */
export function accessRefusal(token: StoredAccess | null, grantRevoked: boolean, now: number): AccessRefusal | null {
  if (token === null) return "unknown_token";
  if (token.kind !== "access") return "not_access_token";
  if (grantRevoked || token.revokedAt !== undefined) return "revoked";
  if (now >= token.expiresAt) return "expired";
  return null;
}

// What the consent page may do for an account, and the fingerprint of one authorization request
// (for the new customer who goes to checkout from /connect and is approved on return). Pure.
import type { AccountState } from "../accounts/accountState";
import { hex } from "../keyedHash";
import type { AuthorizationRequest } from "./authorize";

export type ConnectReadiness = "ready" | "needs_plan" | "blocked";

/**
 * An instance connects to a paying account: active, or past_due while its grace runs (it still
 * has its identity). A trial, a pending signup or a canceled account chooses a plan first; a
 * suspended one is held by support or by an unpaid bill and cannot connect anything new.
 */
export function connectReadiness(state: AccountState): ConnectReadiness {
  switch (state) {
    case "active":
    case "past_due":
      return "ready";
    case "suspended":
      return "blocked";
    case "trial":
    case "pending":
    case "canceled":
      return "needs_plan";
  }
}

/** SHA-256 hex of the request's fields, in a fixed order. */
export async function requestFingerprint(request: AuthorizationRequest): Promise<string> {
  const text = JSON.stringify([request.clientId, request.redirectUri, request.codeChallenge, request.state, request.scopes]);
  return hex(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text))));
}

/** How long after starting checkout from /connect the return still approves by itself. */
export const PENDING_CONNECT_TTL_MS = 2 * 60 * 60_000;

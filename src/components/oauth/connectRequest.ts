// The /connect request as the SPA carries it: exactly the authorization parameters of its URL
// (the server checks them all; the page never decides what is valid), and the checkout marker
// checkout adds when it sends the person back.
import { PENDING_CONNECT_TTL_MS } from "../../../convex/model/oauth/consent";

export const AUTHORIZATION_KEYS = [
  "client_id",
  "redirect_uri",
  "response_type",
  "code_challenge",
  "code_challenge_method",
  "state",
  "scope",
] as const;

export type AuthorizationKey = (typeof AUTHORIZATION_KEYS)[number];
export type ConnectParams = Partial<Record<AuthorizationKey, string>>;

export function connectParamsOf(search: URLSearchParams): ConnectParams {
  const out: ConnectParams = {};
  for (const key of AUTHORIZATION_KEYS) {
    const value = search.get(key);
    if (value !== null) out[key] = value;
  }
  return out;
}

/** `?checkout=success|canceled`, added by checkout's return (convex/billing/sessions.ts). */
export function checkoutReturnOf(search: URLSearchParams): "success" | "canceled" | null {
  const value = search.get("checkout");
  return value === "success" || value === "canceled" ? value : null;
}

/**
 * A new customer who went to checkout from this request is approved on return without a second
 * click, if they come back within the window (the server keeps the request, the page the clock).
 */
export function approvesOnReturn(pendingSince: number | null, now: number): boolean {
  return pendingSince !== null && now - pendingSince < PENDING_CONNECT_TTL_MS;
}

/**
 * Where a new account goes after its onboarding screen: back to the connect request that brought
 * it (signup + connect), else the dashboard.
 */
export function pathAfterOnboarding(location: { pathname: string; search: string }): string {
  return location.pathname === "/connect" ? `/connect${location.search}` : "/";
}

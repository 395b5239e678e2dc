// The authorization request of /connect (RFC 6749 4.1.1 with PKCE, RFC 7636 4.3), checked before
// anything is shown or any redirect happens. An unusable client_id or redirect_uri is reported
// on the page only, never by redirecting (RFC 6749 4.1.2.1: that would be an open redirect);
// other problems are shown too, with the error response for the validated redirect URI ready
// for the "back to the app" button. Every response carries `iss` (RFC 9207). Pure.
import { isInstanceId, parseScopes, redirectKind, type Scope } from "./clients";
import { isValidS256Challenge } from "./pkce";

export interface AuthorizationParams {
  client_id?: string;
  redirect_uri?: string;
  response_type?: string;
  code_challenge?: string;
  code_challenge_method?: string;
  state?: string;
  scope?: string;
}

export interface AuthorizationRequest {
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  state: string;
  scopes: Scope[];
}

export type AuthorizationErrorCode = "invalid_request" | "unsupported_response_type" | "invalid_scope" | "access_denied";

export type AuthorizationCheck =
  | { ok: true; request: AuthorizationRequest }
  /** client_id or redirect_uri unusable: nothing may be sent anywhere. */
  | { ok: false; redirectable: false; description: string }
  /** The redirect URI is good; the client gets this error there when the person goes back. */
  | { ok: false; redirectable: true; error: AuthorizationErrorCode; description: string; redirectUri: string; state?: string };

/** RFC 6749 A.5: state is visible ASCII; bounded so it cannot bloat the redirect. */
const STATE = /^[\x20-\x7e]{1,1024}$/;

export function checkAuthorizationRequest(params: AuthorizationParams, registeredRedirectUris: readonly string[]): AuthorizationCheck {
  const clientId = params.client_id ?? "";
  if (clientId === "") return { ok: false, redirectable: false, description: "The link has no client_id: start connecting again from your Dex instance." };
  if (!isInstanceId(clientId)) {
    return {
      ok: false,
      redirectable: false,
      description: `"${clientId.slice(0, 64)}" is not a Dex instance id (dex- and 4 to 32 lowercase letters or digits). Start connecting again from your Dex instance.`,
    };
  }
  const redirectUri = params.redirect_uri ?? "";
  if (redirectUri === "") return { ok: false, redirectable: false, description: "The link has no redirect_uri: start connecting again from your Dex instance." };
  if (redirectKind(redirectUri, registeredRedirectUris) === null) {
    return {
      ok: false,
      redirectable: false,
      description:
        `${redirectUri.slice(0, 200)} is not a redirect address we send codes to. Use a loopback address (http://127.0.0.1:PORT/ or http://[::1]:PORT/), ` +
        "a Tailscale https://*.ts.net/ address, or register the exact https URL on the Instances page.",
    };
  }
  const state = params.state;
  const fail = (error: AuthorizationErrorCode, description: string): AuthorizationCheck => ({
    ok: false,
    redirectable: true,
    error,
    description,
    redirectUri,
    ...(state !== undefined && STATE.test(state) ? { state } : {}),
  });
  if (params.response_type !== "code") {
    return fail("unsupported_response_type", `response_type must be "code" (got ${JSON.stringify(params.response_type ?? null)}).`);
  }
  if (state === undefined || !STATE.test(state)) return fail("invalid_request", "state is required: 1 to 1024 visible ASCII characters.");
  if (params.code_challenge_method !== "S256") {
    return fail("invalid_request", `code_challenge_method must be S256 (got ${JSON.stringify(params.code_challenge_method ?? null)}); plain is not accepted.`);
  }
  const challenge = params.code_challenge ?? "";
  if (!isValidS256Challenge(challenge)) {
    return fail("invalid_request", "code_challenge is required: the base64url SHA-256 of the code verifier (43 characters).");
  }
  const scopes = parseScopes(params.scope);
  if (!scopes.ok) return fail("invalid_scope", `Unknown scope ${scopes.unknown.join(", ")}.`);
  return { ok: true, request: { clientId, redirectUri, codeChallenge: challenge, state, scopes: scopes.scopes } };
}

/**
 * The redirect URI with the response parameters added to its query (RFC 6749 3.1.2: an existing
 * query is kept), `iss` always among them (RFC 9207 2).
 */
export function authorizationResponseUrl(redirectUri: string, issuer: string, params: Record<string, string | undefined>): string {
  const url = new URL(redirectUri);
  for (const [key, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(key, value);
  url.searchParams.set("iss", issuer);
  return url.href;
}

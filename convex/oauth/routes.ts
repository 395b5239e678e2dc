// The OAuth endpoints on the site URL: metadata (RFC 8414), token (RFC 6749 3.2, 4.1.3, 6;
// RFC 8628 3.4), revocation (RFC 7009) and device authorization (RFC 8628 3.1). Each handler
// reads the form, takes its rate-limit slots (limits.ts), generates any new secrets, hashes them,
// and makes ONE mutation (tokens.ts, device.ts) that decides; plain tokens exist only here and in
// the response.
import type { HttpRouter } from "convex/server";
import { internal } from "../_generated/api";
import { env, httpAction, type ActionCtx } from "../_generated/server";
import { clientIp } from "../proxy/request";
import { isInstanceId, parseScopes, type Scope } from "../model/oauth/clients";
import { ACCESS_TOKEN_TTL_MS } from "../model/oauth/lifecycle";
import { authorizationServerMetadata, DEVICE_CODE_GRANT, issuerOf, tokenErrorStatus, type TokenErrorCode } from "../model/oauth/metadata";
import { isValidVerifier, s256Challenge } from "../model/oauth/pkce";
import { kindOf, newSecret, newUserCode, secretHash } from "../model/oauth/secrets";
import { openSuccessor, sealSuccessor } from "../model/oauth/successor";
import { takeDeviceStartSlot, takeTokenSlot, type Refusal } from "./limits";

/** Public clients on any origin (browser-based tools included); no cookies are involved. */
const CORS = { "access-control-allow-origin": "*" };
/** RFC 6749 5.1: token responses, and their errors, must not be cached. */
const NO_STORE = { "cache-control": "no-store", pragma: "no-cache" };
const MAX_FORM_BYTES = 16 * 1024;

function json(status: number, body: unknown, extra: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...CORS, ...NO_STORE, ...extra } });
}

function oauthError(code: TokenErrorCode, description: string): Response {
  return json(tokenErrorStatus(code), { error: code, error_description: description });
}

/**
 * Over a rate limit. RFC 6749 has no code for it, so: 429 with Retry-After and the usual error
 * JSON (`rate_limited`), which OAuth clients surface as a token error. The device grant answers
 * `slow_down` instead (below), the code RFC 8628 3.5 gives pollers.
 */
function rateLimited(refusal: Refusal): Response {
  const seconds = Math.max(1, Math.ceil(refusal.retryAfterMs / 1000));
  const who = refusal.limit === "client" ? "this client_id" : "this address";
  return json(429, { error: "rate_limited", error_description: `Too many requests from ${who}: retry in ${seconds} s.` }, { "retry-after": String(seconds) });
}

function serverError(description: string): Response {
  return json(500, { error: "server_error", error_description: description });
}

type Form = { ok: true; get(name: string): string | undefined } | { ok: false; response: Response };

/**
 * An application/x-www-form-urlencoded body (RFC 6749 3.2), at most 16 KiB, each parameter at
 * most once (3.1). Client secrets are refused: every Dex instance is a public client.
 */
async function readForm(request: Request): Promise<Form> {
  const type = request.headers.get("content-type") ?? "";
  if (!type.toLowerCase().startsWith("application/x-www-form-urlencoded")) {
    return { ok: false, response: oauthError("invalid_request", "Send the parameters as application/x-www-form-urlencoded.") };
  }
  const text = await request.text();
  if (text.length > MAX_FORM_BYTES) return { ok: false, response: oauthError("invalid_request", "The request body is too large.") };
  const params = new URLSearchParams(text);
  const seen = new Set<string>();
  for (const key of params.keys()) {
    if (seen.has(key)) return { ok: false, response: oauthError("invalid_request", `The parameter ${key} is repeated.`) };
    seen.add(key);
  }
  if (request.headers.get("authorization") !== null || params.has("client_secret") || params.has("client_assertion")) {
    return {
      ok: false,
      response: oauthError("invalid_client", "Dex instances are public clients: send client_id in the body and no client credentials."),
    };
  }
  return { ok: true, get: (name) => params.get(name) ?? undefined };
}

function clientIdOf(form: { get(name: string): string | undefined }): string | Response {
  const clientId = form.get("client_id");
  if (clientId === undefined || clientId === "") return oauthError("invalid_client", "client_id is required (your Dex instance id).");
  if (!isInstanceId(clientId)) return oauthError("invalid_client", "client_id must be a Dex instance id: dex- and 4 to 32 lowercase letters or digits.");
  return clientId;
}

async function newPair() {
  const accessToken = newSecret("access");
  const refreshToken = newSecret("refresh");
  return {
    accessToken,
    refreshToken,
    accessHash: await secretHash(accessToken, env.ENCRYPTION_KEY),
    refreshHash: await secretHash(refreshToken, env.ENCRYPTION_KEY),
  };
}

function tokenResponse(pair: { accessToken: string; refreshToken: string }, scopes: Scope[], expiresInSeconds = ACCESS_TOKEN_TTL_MS / 1000): Response {
  return json(200, {
    access_token: pair.accessToken,
    token_type: "Bearer",
    expires_in: expiresInSeconds,
    refresh_token: pair.refreshToken,
    scope: scopes.join(" "),
  });
}

async function authorizationCodeGrant(ctx: ActionCtx, request: Request, form: { get(name: string): string | undefined }, clientId: string) {
  const code = form.get("code");
  const redirectUri = form.get("redirect_uri");
  const verifier = form.get("code_verifier");
  if (!code) return oauthError("invalid_request", "code is required.");
  if (!redirectUri) return oauthError("invalid_request", "redirect_uri is required (the one the code was issued for).");
  if (!verifier) return oauthError("invalid_request", "code_verifier is required: every authorization uses PKCE (S256).");
  if (!isValidVerifier(verifier)) return oauthError("invalid_request", "code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~.");
  if (kindOf(code) !== "code") return oauthError("invalid_grant", "The authorization code is not valid.");
  const pair = await newPair();
  const result = await ctx.runMutation(internal.oauth.tokens.redeemCode, {
    codeHash: await secretHash(code, env.ENCRYPTION_KEY),
    clientId,
    redirectUri,
    challenge: await s256Challenge(verifier),
    accessHash: pair.accessHash,
    refreshHash: pair.refreshHash,
    ip: clientIp(request),
  });
  if (!result.ok) return oauthError(result.error, result.description);
  return tokenResponse(pair, result.scopes);
}

async function refreshTokenGrant(ctx: ActionCtx, request: Request, form: { get(name: string): string | undefined }, clientId: string) {
  const presented = form.get("refresh_token");
  if (!presented) return oauthError("invalid_request", "refresh_token is required.");
  let scopes: Scope[] | undefined;
  const scope = form.get("scope");
  if (scope !== undefined) {
    const parsed = parseScopes(scope);
    if (!parsed.ok) return oauthError("invalid_scope", `Unknown scope ${parsed.unknown.join(", ")}.`);
    scopes = parsed.scopes;
  }
  if (kindOf(presented) !== "refresh") return oauthError("invalid_grant", "The refresh token is not valid.");
  const presentedHash = await secretHash(presented, env.ENCRYPTION_KEY);
  const pair = await newPair();
  const result = await ctx.runMutation(internal.oauth.tokens.refresh, {
    presentedHash,
    clientId,
    ...(scopes !== undefined ? { scopes } : {}),
    accessHash: pair.accessHash,
    refreshHash: pair.refreshHash,
    sealed: await sealSuccessor(presented, presentedHash, pair),
    ip: clientIp(request),
  });
  if (!result.ok) return oauthError(result.error, result.description);
  if (!result.replay) return tokenResponse(pair, result.scopes);
  // A racing repeat inside the grace: the pair the first request got, opened with this token.
  const same = await openSuccessor(presented, presentedHash, result.sealed);
  if (same === null) return oauthError("invalid_grant", "The refresh token was already exchanged. Use the newest refresh token.");
  return tokenResponse(same, result.scopes, Math.floor(ACCESS_TOKEN_TTL_MS / 1000) - Math.ceil(result.ageMs / 1000));
}

async function deviceCodeGrant(ctx: ActionCtx, request: Request, form: { get(name: string): string | undefined }, clientId: string) {
  const deviceCode = form.get("device_code");
  if (!deviceCode) return oauthError("invalid_request", "device_code is required.");
  if (kindOf(deviceCode) !== "device") return oauthError("invalid_grant", "The device code is not valid.");
  const pair = await newPair();
  const result = await ctx.runMutation(internal.oauth.device.poll, {
    deviceCodeHash: await secretHash(deviceCode, env.ENCRYPTION_KEY),
    clientId,
    accessHash: pair.accessHash,
    refreshHash: pair.refreshHash,
    ip: clientIp(request),
  });
  if (!result.ok) return oauthError(result.error, result.description);
  return tokenResponse(pair, result.scopes);
}

async function tokenHandler(ctx: ActionCtx, request: Request): Promise<Response> {
  const form = await readForm(request);
  if (!form.ok) return form.response;
  const grantType = form.get("grant_type");
  if (!grantType) return oauthError("invalid_request", "grant_type is required.");
  if (grantType !== "authorization_code" && grantType !== "refresh_token" && grantType !== DEVICE_CODE_GRANT) {
    return oauthError("unsupported_grant_type", `grant_type ${grantType.slice(0, 100)} is not supported: use authorization_code, refresh_token or ${DEVICE_CODE_GRANT}.`);
  }
  const clientId = clientIdOf(form);
  if (typeof clientId !== "string") return clientId;
  const refusal = await takeTokenSlot(ctx, clientId, clientIp(request));
  if (refusal !== null) {
    // RFC 8628 3.5: a poller that is too fast is told slow_down; it adds 5 s to its interval.
    if (grantType === DEVICE_CODE_GRANT) return oauthError("slow_down", `Polling too fast for ${refusal.limit === "client" ? "this client_id" : "this address"}: add 5 seconds to the interval.`);
    return rateLimited(refusal);
  }
  if (grantType === "authorization_code") return await authorizationCodeGrant(ctx, request, form, clientId);
  if (grantType === "refresh_token") return await refreshTokenGrant(ctx, request, form, clientId);
  return await deviceCodeGrant(ctx, request, form, clientId);
}

/** RFC 7009 2.2: 200 whether or not the token was known (nothing to learn by probing). */
async function revokeHandler(ctx: ActionCtx, request: Request): Promise<Response> {
  const form = await readForm(request);
  if (!form.ok) return form.response;
  const token = form.get("token");
  if (!token) return oauthError("invalid_request", "token is required.");
  const clientId = form.get("client_id");
  if (clientId !== undefined && !isInstanceId(clientId)) return oauthError("invalid_client", "client_id must be a Dex instance id.");
  const kind = kindOf(token);
  if (kind === "access" || kind === "refresh") {
    await ctx.runMutation(internal.oauth.tokens.revoke, {
      tokenHash: await secretHash(token, env.ENCRYPTION_KEY),
      ...(clientId !== undefined ? { clientId } : {}),
    });
  }
  return new Response(null, { status: 200, headers: { ...CORS, ...NO_STORE } });
}

function appUrl(): string | null {
  return env.APP_URL ? env.APP_URL.replace(/\/+$/, "") : null;
}

/** RFC 8628 3.1-3.2: a device code for the instance to poll with, and a user code for a person. */
async function deviceAuthorizationHandler(ctx: ActionCtx, request: Request): Promise<Response> {
  const form = await readForm(request);
  if (!form.ok) return form.response;
  const clientId = clientIdOf(form);
  if (typeof clientId !== "string") return clientId;
  const scopes = parseScopes(form.get("scope"));
  if (!scopes.ok) return oauthError("invalid_scope", `Unknown scope ${scopes.unknown.join(", ")}.`);
  const app = appUrl();
  if (app === null) return serverError("APP_URL is not set on this deployment: there is no device page to send people to.");
  const refusal = await takeDeviceStartSlot(ctx, clientIp(request));
  if (refusal !== null) return rateLimited(refusal);
  const deviceCode = newSecret("device");
  const deviceCodeHash = await secretHash(deviceCode, env.ENCRYPTION_KEY);
  // A clash with a live user code is astronomically rare; draw again rather than fail.
  for (let attempt = 0; attempt < 3; attempt++) {
    const userCode = newUserCode();
    const started = await ctx.runMutation(internal.oauth.device.start, {
      deviceCodeHash,
      userCodeHash: await secretHash(userCode, env.ENCRYPTION_KEY),
      clientId,
      scopes: scopes.scopes,
    });
    if (!started.ok) continue;
    return json(200, {
      device_code: deviceCode,
      user_code: userCode,
      verification_uri: `${app}/device`,
      verification_uri_complete: `${app}/device?user_code=${encodeURIComponent(userCode)}`,
      expires_in: Math.round((started.expiresAt - Date.now()) / 1000),
      interval: started.intervalSeconds,
    });
  }
  return serverError("Could not allocate a user code; try again.");
}

/** The issuer is this site URL (what clients fetched the document from). */
export function siteIssuer(request: Request): string {
  return issuerOf(env.CONVEX_SITE_URL ?? new URL(request.url).origin);
}

async function metadataHandler(_ctx: ActionCtx, request: Request): Promise<Response> {
  const app = appUrl();
  if (app === null) return serverError("APP_URL is not set on this deployment: there is no consent page to name.");
  return new Response(JSON.stringify(authorizationServerMetadata(siteIssuer(request), app)), {
    status: 200,
    headers: { "content-type": "application/json", "cache-control": "public, max-age=300", ...CORS },
  });
}

async function preflightHandler(_ctx: ActionCtx, request: Request): Promise<Response> {
  return new Response(null, {
    status: 204,
    headers: {
      ...CORS,
      "access-control-allow-methods": "GET, POST, OPTIONS",
      "access-control-allow-headers": request.headers.get("access-control-request-headers") ?? "content-type",
      "access-control-max-age": "86400",
    },
  });
}

export const token = httpAction(tokenHandler);
export const revoke = httpAction(revokeHandler);
export const deviceAuthorization = httpAction(deviceAuthorizationHandler);
export const metadata = httpAction(metadataHandler);
const preflight = httpAction(preflightHandler);

export function mountOAuthRoutes(http: HttpRouter): void {
  const routes = [
    ["/oauth/token", "POST", token],
    ["/oauth/revoke", "POST", revoke],
    ["/oauth/device_authorization", "POST", deviceAuthorization],
    ["/.well-known/oauth-authorization-server", "GET", metadata],
  ] as const;
  for (const [path, method, handler] of routes) {
    http.route({ path, method, handler });
    http.route({ path, method: "OPTIONS", handler: preflight });
  }
}

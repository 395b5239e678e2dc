// Connecting a Dex instance to Poindexter Cloud with OAuth 2.0, through oauth4webapi (a
// certified client that checks the server's metadata, `iss`, `state` and token responses
// strictly): authorization code + PKCE with a loopback redirect (RFC 8252 7.3) for an instance
// with a browser, the device flow (RFC 8628) for a headless one, refresh and revocation.
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import * as oauth from "oauth4webapi";
import { NotConnectedError, OAuthError } from "./errors";
import type { StoredTokens, TokenStore } from "./tokenStore";

export const DEFAULT_SCOPE = "identity email signal calendar ai usage";

/** `dex-` and 4 to 32 lowercase letters or digits: the server's client_id rule. */
export const INSTANCE_ID = /^dex-[a-z0-9]{4,32}$/;

export function newInstanceId(): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  const bytes = randomBytes(12);
  return `dex-${Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("")}`;
}

export interface ServerOptions {
  /** The site URL, which is the issuer (e.g. https://<deployment>.convex.site). */
  issuer: string;
  /** This instance's id, the client_id. */
  clientId: string;
  fetch?: typeof fetch;
}

const none = oauth.None();

function isLoopbackHttp(url: URL): boolean {
  return url.protocol === "http:" && (url.hostname === "127.0.0.1" || url.hostname === "[::1]" || url.hostname === "localhost");
}

/** Request options: plain http only for a server on this machine (the offline runtime). */
function requestOptions(issuer: URL, customFetch?: typeof fetch) {
  return {
    ...(isLoopbackHttp(issuer) ? { [oauth.allowInsecureRequests]: true } : {}),
    ...(customFetch ? { [oauth.customFetch]: customFetch } : {}),
  };
}

const discovered = new Map<string, Promise<oauth.AuthorizationServer>>();

/** The server's RFC 8414 metadata, fetched once per issuer; its `issuer` must equal the URL asked. */
export async function discover(issuer: string, customFetch?: typeof fetch): Promise<oauth.AuthorizationServer> {
  const url = new URL(issuer);
  const key = url.href;
  let found = discovered.get(key);
  if (!found) {
    found = (async () => {
      const res = await oauth.discoveryRequest(url, { algorithm: "oauth2", ...requestOptions(url, customFetch) });
      return await oauth.processDiscoveryResponse(url, res);
    })();
    discovered.set(key, found);
    found.catch(() => discovered.delete(key));
  }
  return await found;
}

/** Maps oauth4webapi's errors to OAuthError; anything else (network) passes through. */
async function asOAuth<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    if (e instanceof oauth.ResponseBodyError) throw new OAuthError(e.error, e.error_description ?? e.error, e.status);
    if (e instanceof oauth.AuthorizationResponseError) throw new OAuthError(e.error, e.error_description ?? e.error);
    if (e instanceof oauth.OperationProcessingError) throw new OAuthError("invalid_response", e.message);
    throw e;
  }
}

function stored(opts: ServerOptions, tokens: oauth.TokenEndpointResponse, previous?: StoredTokens): StoredTokens {
  if (!tokens.refresh_token) throw new OAuthError("invalid_response", "The token response carries no refresh_token.");
  return {
    issuer: opts.issuer,
    clientId: opts.clientId,
    accessToken: tokens.access_token,
    refreshToken: tokens.refresh_token,
    expiresAt: Date.now() + (tokens.expires_in ?? 3600) * 1000,
    scope: tokens.scope ?? previous?.scope ?? "",
    connectedAt: previous?.connectedAt ?? Date.now(),
  };
}

export interface ConnectOptions extends ServerOptions {
  store: TokenStore;
  scope?: string;
  /** Called with the /connect URL once the loopback listener is up: print it, open a browser. */
  onUrl: (url: string) => void | Promise<void>;
  /** How long to wait for the browser to come back (default 15 minutes: signup and checkout take a while). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

const PAGE = (title: string, body: string) =>
  `<!doctype html><meta charset="utf-8"><title>${title}</title><body style="font-family:system-ui;margin:3rem"><h1 data-testid="dex-callback-title">${title}</h1><p>${body}</p></body>`;

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Authorization code + PKCE over a loopback redirect: listens on 127.0.0.1 on a free port, hands
 * the /connect URL (client_id, redirect_uri, state, S256 challenge) to `onUrl`, checks `iss` and
 * `state` on the redirect, exchanges the code and stores the pair. Resolves with the stored tokens.
 */
export async function connect(opts: ConnectOptions): Promise<StoredTokens> {
  const as = await discover(opts.issuer, opts.fetch);
  if (!as.authorization_endpoint) throw new OAuthError("invalid_response", "The server's metadata names no authorization endpoint.");
  const client: oauth.Client = { client_id: opts.clientId };
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const challenge = await oauth.calculatePKCECodeChallenge(verifier);

  let server: Server | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    const callback = await new Promise<{ redirectUri: string; params: URLSearchParams }>((resolve, reject) => {
      let redirectUri = "";
      server = createServer((req, res) => {
        const url = new URL(req.url ?? "/", "http://127.0.0.1");
        if (url.pathname !== "/callback") {
          res.writeHead(404).end();
          return;
        }
        try {
          // iss (RFC 9207) and state checked here; an error response becomes AuthorizationResponseError.
          const params = oauth.validateAuthResponse(as, client, url.searchParams, state);
          res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(PAGE("Connected", "Your Dex instance is connected to Poindexter Cloud. You can close this tab."));
          resolve({ redirectUri, params });
        } catch (e) {
          const why = e instanceof oauth.AuthorizationResponseError ? (e.error_description ?? e.error) : (e as Error).message;
          res.writeHead(400, { "content-type": "text/html; charset=utf-8" }).end(PAGE("Not connected", escapeHtml(why)));
          // A stray request with the wrong state is ignored (it may not be ours); an error from the server ends the attempt.
          if (e instanceof oauth.AuthorizationResponseError) reject(new OAuthError(e.error, e.error_description ?? e.error));
        }
      });
      server.on("error", reject);
      server.listen(0, "127.0.0.1", () => {
        const address = server!.address();
        const port = typeof address === "object" && address ? address.port : 0;
        redirectUri = `http://127.0.0.1:${port}/callback`;
        const url = new URL(as.authorization_endpoint!);
        const params: Record<string, string> = {
          client_id: opts.clientId,
          redirect_uri: redirectUri,
          response_type: "code",
          scope: opts.scope ?? DEFAULT_SCOPE,
          state,
          code_challenge: challenge,
          code_challenge_method: "S256",
        };
        for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
        Promise.resolve(opts.onUrl(url.href)).catch(reject);
      });
      timer = setTimeout(() => reject(new OAuthError("timeout", "Nobody finished connecting in the browser in time.")), opts.timeoutMs ?? 15 * 60_000);
      if (opts.signal?.aborted) reject(new OAuthError("aborted", "Connecting was cancelled."));
      opts.signal?.addEventListener("abort", () => reject(new OAuthError("aborted", "Connecting was cancelled.")), { once: true });
    });
    const issuer = new URL(opts.issuer);
    const tokens = await asOAuth(async () =>
      oauth.processAuthorizationCodeResponse(
        as,
        client,
        await oauth.authorizationCodeGrantRequest(as, client, none, callback.params, callback.redirectUri, verifier, requestOptions(issuer, opts.fetch)),
      ),
    );
    const saved = stored(opts, tokens);
    await opts.store.save(saved);
    return saved;
  } finally {
    clearTimeout(timer);
    const s = server as Server | undefined;
    if (s) {
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  }
}

export interface DeviceConnectOptions extends ServerOptions {
  store: TokenStore;
  scope?: string;
  /** Called once with what to show the person: the code and where to type it. */
  onCode: (code: { userCode: string; verificationUri: string; verificationUriComplete?: string; expiresInSeconds: number }) => void | Promise<void>;
  signal?: AbortSignal;
  /** For tests: how to wait between polls. */
  sleep?: (ms: number) => Promise<void>;
}

/** The device flow: a user code to type on /device, polled at the server's interval (+5 s on slow_down). */
export async function connectDevice(opts: DeviceConnectOptions): Promise<StoredTokens> {
  const as = await discover(opts.issuer, opts.fetch);
  const client: oauth.Client = { client_id: opts.clientId };
  const options = requestOptions(new URL(opts.issuer), opts.fetch);
  const started = await asOAuth(async () =>
    oauth.processDeviceAuthorizationResponse(as, client, await oauth.deviceAuthorizationRequest(as, client, none, { scope: opts.scope ?? DEFAULT_SCOPE }, options)),
  );
  await opts.onCode({
    userCode: started.user_code,
    verificationUri: started.verification_uri,
    ...(started.verification_uri_complete ? { verificationUriComplete: started.verification_uri_complete } : {}),
    expiresInSeconds: started.expires_in,
  });
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let interval = (started.interval ?? 5) * 1000;
  const deadline = Date.now() + started.expires_in * 1000;
  for (;;) {
    if (opts.signal?.aborted) throw new OAuthError("aborted", "Connecting was cancelled.");
    if (Date.now() > deadline) throw new OAuthError("expired_token", "The code expired before it was approved. Start again.");
    await sleep(interval);
    try {
      const tokens = await asOAuth(async () =>
        oauth.processDeviceCodeResponse(as, client, await oauth.deviceCodeGrantRequest(as, client, none, started.device_code, options)),
      );
      const saved = stored(opts, tokens);
      await opts.store.save(saved);
      return saved;
    } catch (e) {
      if (e instanceof OAuthError && e.code === "authorization_pending") continue;
      if (e instanceof OAuthError && e.code === "slow_down") {
        interval += 5000;
        continue;
      }
      throw e;
    }
  }
}

/**
 * Exchanges the stored refresh token for a new pair and stores it. A refused refresh token
 * (revoked, expired, reused) means the instance must connect again: NotConnectedError.
 */
export async function refreshTokens(current: StoredTokens, store: TokenStore, customFetch?: typeof fetch): Promise<StoredTokens> {
  const opts = { issuer: current.issuer, clientId: current.clientId, ...(customFetch ? { fetch: customFetch } : {}) };
  const as = await discover(current.issuer, customFetch);
  const client: oauth.Client = { client_id: current.clientId };
  try {
    const tokens = await asOAuth(async () =>
      oauth.processRefreshTokenResponse(
        as,
        client,
        await oauth.refreshTokenGrantRequest(as, client, none, current.refreshToken, requestOptions(new URL(current.issuer), customFetch)),
      ),
    );
    const saved = stored(opts, tokens, current);
    await store.save(saved);
    return saved;
  } catch (e) {
    if (e instanceof OAuthError && (e.code === "invalid_grant" || e.code === "invalid_client")) {
      throw new NotConnectedError(`This instance is no longer connected (${e.message}). Run connect again.`);
    }
    throw e;
  }
}

/** RFC 7009: revokes the grant (the refresh token ends every token of it) and forgets the pair. */
export async function disconnect(store: TokenStore, customFetch?: typeof fetch): Promise<boolean> {
  const current = await store.load();
  if (current === null) return false;
  const as = await discover(current.issuer, customFetch);
  const client: oauth.Client = { client_id: current.clientId };
  await asOAuth(async () =>
    oauth.processRevocationResponse(await oauth.revocationRequest(as, client, none, current.refreshToken, requestOptions(new URL(current.issuer), customFetch))),
  );
  await store.clear();
  return true;
}

// Google Workspace adapter: a service-account token (RS256 JWT signed with `jose`, domain-wide
// delegation), Admin SDK Directory users and a Gmail probe. The identity issue (#10) wires it into
// provisioning steps (workspace user created, mailbox ready) and suspension/deprovisioning.
//
// Delegation: the JWT `sub` is GOOGLE_ADMIN_EMAIL for Directory calls and the mailbox user for
// Gmail. GOOGLE_BASE_URL (the simulator) puts token, Directory and Gmail on one host; unset, each
// goes to Google's own host. The password handed to insertUser is never logged or returned.
import { importPKCS8, SignJWT } from "jose";
import { env } from "../../_generated/server";
import {
  call,
  describe,
  ok,
  RetryableProviderError,
  trimSlash,
  type ProviderFailure,
  type ProviderOutcome,
  type WireResponse,
} from "./types";

export const GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token";
export const DIRECTORY_SCOPE = "https://www.googleapis.com/auth/admin.directory.user";
export const GMAIL_SCOPE = "https://www.googleapis.com/auth/gmail.readonly";

export interface GoogleConfig {
  serviceAccountEmail: string;
  /** PKCS#8 PEM (a key file's `private_key`; `\n` escapes are accepted). */
  privateKey: string;
  adminEmail: string;
  /** One host for everything (the simulator), or null for Google's hosts. */
  baseUrl: string | null;
  fetch?: typeof fetch;
}

/** The deployment's Google config, or null when a variable is missing. */
export function googleConfigFromEnv(): GoogleConfig | null {
  const { GOOGLE_SERVICE_ACCOUNT_EMAIL, GOOGLE_SERVICE_ACCOUNT_PRIVATE_KEY, GOOGLE_ADMIN_EMAIL } = env;
  if (!GOOGLE_SERVICE_ACCOUNT_EMAIL || !GOOGLE_SERVICE_ACCOUNT_PRIVATE_KEY || !GOOGLE_ADMIN_EMAIL) return null;
  return {
    serviceAccountEmail: GOOGLE_SERVICE_ACCOUNT_EMAIL,
    privateKey: GOOGLE_SERVICE_ACCOUNT_PRIVATE_KEY,
    adminEmail: GOOGLE_ADMIN_EMAIL,
    baseUrl: env.GOOGLE_BASE_URL || null,
  };
}

function tokenUrl(config: GoogleConfig): string {
  return config.baseUrl ? `${trimSlash(config.baseUrl)}/token` : GOOGLE_TOKEN_AUDIENCE;
}
function directoryUrl(config: GoogleConfig, path: string): string {
  return `${config.baseUrl ? trimSlash(config.baseUrl) : "https://admin.googleapis.com"}/admin/directory/v1${path}`;
}
function gmailUrl(config: GoogleConfig, path: string): string {
  return `${config.baseUrl ? trimSlash(config.baseUrl) : "https://gmail.googleapis.com"}/gmail/v1${path}`;
}

// ---- Errors ----

interface GoogleError {
  message: string;
  reasons: string[];
  status: string | null;
}

function googleError(response: WireResponse): GoogleError {
  const body = response.json as { error?: unknown; error_description?: unknown } | null;
  const error = body?.error;
  if (error && typeof error === "object") {
    const e = error as { message?: unknown; status?: unknown; errors?: unknown };
    const reasons = Array.isArray(e.errors) ? e.errors.map((x) => String((x as { reason?: unknown }).reason ?? "")).filter(Boolean) : [];
    return { message: typeof e.message === "string" ? e.message : response.text, reasons, status: typeof e.status === "string" ? e.status : null };
  }
  // The token endpoint's OAuth shape: {error: "invalid_grant", error_description}.
  if (typeof error === "string") {
    const description = typeof body?.error_description === "string" ? body.error_description : "";
    return { message: description ? `${error}: ${description}` : error, reasons: [error], status: null };
  }
  return { message: response.text, reasons: [], status: null };
}

const RATE_LIMIT_REASONS = new Set(["userRateLimitExceeded", "rateLimitExceeded", "quotaExceeded", "dailyLimitExceeded"]);

/** Google's error as the shared classification: throws when retryable, returns the failure otherwise. */
export function classifyGoogle(response: WireResponse): ProviderFailure {
  const error = googleError(response);
  const text = describe(response.status, error.message);
  const code = error.reasons[0] ?? error.status;
  if (response.status >= 500 || response.status === 429) throw new RetryableProviderError("google", text, response.status, code);
  if (response.status === 403 && error.reasons.some((r) => RATE_LIMIT_REASONS.has(r))) {
    throw new RetryableProviderError("google", text, response.status, code);
  }
  // Right after users.insert the user is not usable yet; the mailbox follows later still.
  if (/user creation is not complete/i.test(error.message) || /mail service not enabled/i.test(error.message)) {
    throw new RetryableProviderError("google", text, response.status, code);
  }
  if (response.status === 409) return { kind: "conflict", provider: "google", status: 409, message: text };
  if (/domain/i.test(error.message) && response.status < 500) {
    return { kind: "permanent", provider: "google", status: response.status, code: "invalid_domain", message: text };
  }
  return { kind: "permanent", provider: "google", status: response.status, code, message: text };
}

// ---- Token ----

const tokenCache = new Map<string, { token: string; expiresAt: number }>();

async function accessToken(config: GoogleConfig, scope: string, sub: string): Promise<ProviderOutcome<string>> {
  const cacheKey = `${tokenUrl(config)}|${config.serviceAccountEmail}|${scope}|${sub.toLowerCase()}`;
  const cached = tokenCache.get(cacheKey);
  if (cached && cached.expiresAt > Date.now() + 60_000) return ok(cached.token);
  let assertion: string;
  try {
    const key = await importPKCS8(config.privateKey.replace(/\\n/g, "\n"), "RS256");
    assertion = await new SignJWT({ scope })
      .setProtectedHeader({ alg: "RS256", typ: "JWT" })
      .setIssuer(config.serviceAccountEmail)
      .setSubject(sub)
      .setAudience(GOOGLE_TOKEN_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime("1h")
      .sign(key);
  } catch (e) {
    return { kind: "permanent", provider: "google", status: 0, code: "invalid_private_key", message: `The service account key cannot sign (${(e as Error).message}).` };
  }
  const response = await call("google", tokenUrl(config), {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer", assertion }).toString(),
    fetch: config.fetch,
  });
  if (response.status !== 200) return classifyGoogle(response);
  const body = response.json as { access_token?: unknown; expires_in?: unknown } | null;
  if (typeof body?.access_token !== "string") throw new RetryableProviderError("google", "The token endpoint answered without an access_token.", 200);
  const ttl = typeof body.expires_in === "number" ? body.expires_in : 3599;
  tokenCache.set(cacheKey, { token: body.access_token, expiresAt: Date.now() + ttl * 1000 });
  return ok(body.access_token);
}

/** Forget cached tokens (tests; a rotated key). */
export function clearGoogleTokenCache(): void {
  tokenCache.clear();
}

/** An authorized call; a 401 (expired or revoked token) gets one more try with a fresh token. */
async function authorized(config: GoogleConfig, scope: string, sub: string, method: string, url: string, body?: unknown): Promise<ProviderOutcome<WireResponse>> {
  for (let attempt = 0; ; attempt++) {
    const token = await accessToken(config, scope, sub);
    if (token.kind !== "ok") return token;
    const response = await call("google", url, {
      method,
      headers: { authorization: `Bearer ${token.value}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      fetch: config.fetch,
    });
    if (response.status === 401 && attempt === 0) {
      tokenCache.clear();
      continue;
    }
    return ok(response);
  }
}

// ---- Directory ----

export interface DirectoryUser {
  id: string;
  primaryEmail: string;
  suspended: boolean;
}

function directoryUser(json: unknown): DirectoryUser {
  const u = json as { id?: unknown; primaryEmail?: unknown; suspended?: unknown };
  return { id: String(u.id ?? ""), primaryEmail: String(u.primaryEmail ?? "").toLowerCase(), suspended: u.suspended === true };
}

const userPath = (userKey: string) => `/users/${encodeURIComponent(userKey)}`;

/** users.get by primaryEmail (or id): the idempotency lookup. `null` when there is no such user. */
export async function getUser(config: GoogleConfig, userKey: string): Promise<ProviderOutcome<DirectoryUser | null>> {
  const res = await authorized(config, DIRECTORY_SCOPE, config.adminEmail, "GET", directoryUrl(config, userPath(userKey)));
  if (res.kind !== "ok") return res;
  if (res.value.status === 200) return ok(directoryUser(res.value.json));
  if (res.value.status === 404) return ok(null);
  return classifyGoogle(res.value);
}

export interface NewUser {
  primaryEmail: string;
  givenName: string;
  familyName: string;
  /** Generated by the caller; sent once, never logged, never part of a result or error. */
  password: string;
}

/** users.insert. A 409 resolves as `conflict` (see ensureUser for the lookup). */
export async function insertUser(config: GoogleConfig, user: NewUser): Promise<ProviderOutcome<DirectoryUser>> {
  const res = await authorized(config, DIRECTORY_SCOPE, config.adminEmail, "POST", directoryUrl(config, "/users"), {
    primaryEmail: user.primaryEmail,
    name: { givenName: user.givenName.slice(0, 60), familyName: user.familyName.slice(0, 60) },
    password: user.password,
    changePasswordAtNextLogin: false,
  });
  if (res.kind !== "ok") return res;
  if (res.value.status === 200 || res.value.status === 201) return ok(directoryUser(res.value.json));
  return classifyGoogle(res.value);
}

/**
 * Idempotent create: look the address up first, insert only when absent, and resolve a 409 (a
 * concurrent or crashed earlier attempt) by looking it up again. `created` says which happened.
 */
export async function ensureUser(config: GoogleConfig, user: NewUser): Promise<ProviderOutcome<{ user: DirectoryUser; created: boolean }>> {
  const existing = await getUser(config, user.primaryEmail);
  if (existing.kind !== "ok") return existing;
  if (existing.value) return ok({ user: existing.value, created: false });
  const inserted = await insertUser(config, user);
  if (inserted.kind === "ok") return ok({ user: inserted.value, created: true });
  if (inserted.kind !== "conflict") return inserted;
  const after = await getUser(config, user.primaryEmail);
  if (after.kind !== "ok") return after;
  // 409 but no user under that address: the name is taken by an alias or group.
  if (!after.value) return inserted;
  return ok({ user: after.value, created: false });
}

async function setSuspended(config: GoogleConfig, userKey: string, suspended: boolean): Promise<ProviderOutcome<DirectoryUser>> {
  const res = await authorized(config, DIRECTORY_SCOPE, config.adminEmail, "PUT", directoryUrl(config, userPath(userKey)), { suspended });
  if (res.kind !== "ok") return res;
  if (res.value.status === 200) return ok(directoryUser(res.value.json));
  return classifyGoogle(res.value);
}

export const suspendUser = (config: GoogleConfig, userKey: string) => setSuspended(config, userKey, true);
export const unsuspendUser = (config: GoogleConfig, userKey: string) => setSuspended(config, userKey, false);

/** users.delete. An already deleted user (404) counts as deleted: `existed` is then false. */
export async function deleteUser(config: GoogleConfig, userKey: string): Promise<ProviderOutcome<{ existed: boolean }>> {
  const res = await authorized(config, DIRECTORY_SCOPE, config.adminEmail, "DELETE", directoryUrl(config, userPath(userKey)));
  if (res.kind !== "ok") return res;
  if (res.value.status === 204 || res.value.status === 200) return ok({ existed: true });
  if (res.value.status === 404) return ok({ existed: false });
  return classifyGoogle(res.value);
}

// ---- Gmail ----

/**
 * "Mailbox ready": a Gmail call as the mailbox user (delegation `sub` = the user) succeeds.
 * "Mail service not enabled" / "User creation is not complete" throw (retry later).
 */
export async function probeMailbox(config: GoogleConfig, mailbox: string): Promise<ProviderOutcome<{ ready: true }>> {
  const res = await authorized(config, GMAIL_SCOPE, mailbox, "GET", gmailUrl(config, "/users/me/messages?maxResults=1"));
  if (res.kind !== "ok") return res;
  if (res.value.status === 200) return ok({ ready: true });
  return classifyGoogle(res.value);
}

// ---- For the Dex API (workspace.ts): calls as the mailbox user ----

/** Gmail and Calendar scopes the Dex API's delegation uses (send, read, trash; events). */
export const GMAIL_MODIFY_SCOPE = "https://www.googleapis.com/auth/gmail.modify";
export const CALENDAR_EVENTS_SCOPE = "https://www.googleapis.com/auth/calendar.events";

/**
 * One authorized Google call as `sub` (the mailbox user), to `api` at `path`: the token cache and
 * the 401 retry of `authorized`. The caller classifies the response (classifyGoogle).
 */
export function googleRequest(
  config: GoogleConfig,
  scope: string,
  sub: string,
  method: string,
  api: "gmail" | "calendar",
  path: string,
  body?: unknown,
): Promise<ProviderOutcome<WireResponse>> {
  const url = api === "gmail" ? gmailUrl(config, path) : `${config.baseUrl ? trimSlash(config.baseUrl) : "https://www.googleapis.com"}/calendar/v3${path}`;
  return authorized(config, scope, sub, method, url, body);
}

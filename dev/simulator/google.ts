/**
 * Google Workspace as a service account with domain-wide delegation sees it: the JWT-bearer token
 * endpoint, Admin SDK Directory users, Gmail send/list/get/modify/trash and Calendar events
 * (list, insert, update, delete). Real Google
 * spreads these over several hosts; here they share one, at their real paths:
 *   POST /token                              (oauth2.googleapis.com)
 *   /admin/directory/v1/users[/{userKey}]    (admin.googleapis.com)
 *   /gmail/v1/users/{userId}/messages...     (gmail.googleapis.com)
 *   /calendar/v3/calendars/{id}/events       (www.googleapis.com)
 * Sent mail is captured (see mailbox.ts) and copied into recipients that are Directory users.
 */
import { createPublicKey, generateKeyPairSync, randomBytes, randomUUID, verify, type KeyObject } from "node:crypto";
import { controlFormat } from "./control.ts";
import { SimHttpError, sendJson, type ProviderFormat, type Route, type RouteContext } from "./http.ts";
import { addresses, captureMail, parseRfc2822 } from "./mailbox.ts";
import type { SimulatorState } from "./state.ts";

export const GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token";
const TOKEN_TTL_S = 3600;
const SCOPES = {
  directory: ["https://www.googleapis.com/auth/admin.directory.user"],
  gmail: [
    "https://mail.google.com/",
    "https://www.googleapis.com/auth/gmail.send",
    "https://www.googleapis.com/auth/gmail.readonly",
    "https://www.googleapis.com/auth/gmail.modify",
  ],
  calendar: ["https://www.googleapis.com/auth/calendar", "https://www.googleapis.com/auth/calendar.events"],
};

const STATUS_NAMES: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  409: "ALREADY_EXISTS",
  429: "RESOURCE_EXHAUSTED",
  500: "INTERNAL",
  503: "UNAVAILABLE",
};

/** Google's JSON error envelope: {error: {code, message, errors: [{message, domain, reason}], status}}. */
export const googleFormat: ProviderFormat = {
  name: "google",
  renderError(error) {
    const message = error.message || `Simulated Google error ${error.status}.`;
    return {
      body: {
        error: {
          code: error.status,
          message,
          errors: [{ message, domain: "global", reason: error.details.code ?? (error.status === 401 ? "authError" : error.status === 404 ? "notFound" : error.status >= 500 ? "backendError" : "invalid") }],
          status: error.details.type ?? STATUS_NAMES[error.status] ?? "UNKNOWN",
        },
      },
      headers: error.details.headers,
    };
  },
};

/** The OAuth token endpoint answers RFC 6749 errors, not the API envelope. */
const oauthFormat: ProviderFormat = {
  name: "google-oauth",
  renderError(error) {
    return { body: { error: error.details.code ?? "invalid_request", error_description: error.message }, headers: error.details.headers };
  },
};

interface DirectoryUser {
  kind: "admin#directory#user";
  id: string;
  primaryEmail: string;
  name: { givenName: string; familyName: string; fullName: string };
  isAdmin: boolean;
  suspended: boolean;
  creationTime: string;
  customerId: string;
  orgUnitPath: string;
  _password: string;
}

interface GmailMessage {
  id: string;
  threadId: string;
  labelIds: string[];
  snippet: string;
  internalDate: string;
  raw: string;
  headers: Record<string, string>;
  text: string;
}

interface CalendarEvent extends Record<string, unknown> {
  id: string;
  start: { dateTime?: string; date?: string };
}

interface GoogleStore {
  serviceAccounts: Map<string, KeyObject>;
  tokens: Map<string, { scopes: string[]; subject: string | null; expiresAt: number }>;
  users: Map<string, DirectoryUser>;
  mailboxes: Map<string, GmailMessage[]>;
  calendars: Map<string, CalendarEvent[]>;
}

const stores = new WeakMap<SimulatorState, GoogleStore>();

function emptyStore(keep?: GoogleStore): GoogleStore {
  // Issued service accounts survive a reset: their keys live in env files.
  return { serviceAccounts: keep?.serviceAccounts ?? new Map(), tokens: new Map(), users: new Map(), mailboxes: new Map(), calendars: new Map() };
}

export function googleStore(state: SimulatorState): GoogleStore {
  let store = stores.get(state);
  if (!store) {
    const created = emptyStore();
    store = created;
    stores.set(state, created);
    state.onReset(() => Object.assign(created, emptyStore(created)));
  }
  return store;
}

// ---- Token endpoint ----

function base64urlJson(part: string): Record<string, unknown> {
  try {
    return JSON.parse(Buffer.from(part, "base64url").toString("utf8")) as Record<string, unknown>;
  } catch {
    throw new SimHttpError(400, "Invalid JWT: segment is not base64url JSON.", { code: "invalid_grant" });
  }
}

async function token(ctx: RouteContext): Promise<void> {
  const params = new URLSearchParams(ctx.body.toString("utf8"));
  if (params.get("grant_type") !== "urn:ietf:params:oauth:grant-type:jwt-bearer") {
    throw new SimHttpError(400, "Invalid grant_type: use urn:ietf:params:oauth:grant-type:jwt-bearer.", { code: "unsupported_grant_type" });
  }
  const assertion = params.get("assertion") ?? "";
  const parts = assertion.split(".");
  if (parts.length !== 3) throw new SimHttpError(400, "Invalid JWT: expected three segments.", { code: "invalid_grant" });
  const header = base64urlJson(parts[0]);
  const claims = base64urlJson(parts[1]);
  if (header.alg !== "RS256") throw new SimHttpError(400, "Invalid JWT: alg must be RS256.", { code: "invalid_grant" });
  const iss = claims.iss;
  if (typeof iss !== "string" || !iss.includes("@")) throw new SimHttpError(400, "Invalid JWT: iss must be the service account email.", { code: "invalid_grant" });
  const selfAudience = `http://${ctx.req.headers.host}/token`;
  if (claims.aud !== GOOGLE_TOKEN_AUDIENCE && claims.aud !== selfAudience) {
    throw new SimHttpError(400, `Invalid JWT: aud must be ${GOOGLE_TOKEN_AUDIENCE}.`, { code: "invalid_grant" });
  }
  const now = Math.floor(Date.now() / 1000);
  const iat = Number(claims.iat);
  const exp = Number(claims.exp);
  if (!Number.isFinite(iat) || !Number.isFinite(exp) || exp <= iat || exp - iat > TOKEN_TTL_S) {
    throw new SimHttpError(400, "Invalid JWT: iat and exp must be set, exp at most one hour after iat.", { code: "invalid_grant" });
  }
  if (exp < now - 300 || iat > now + 300) {
    throw new SimHttpError(400, "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.", { code: "invalid_grant" });
  }
  if (typeof claims.scope !== "string" || claims.scope.trim() === "") throw new SimHttpError(400, "Invalid JWT: scope is required.", { code: "invalid_scope" });
  const store = googleStore(ctx.state);
  // Signatures are checked for service accounts this simulator issued; it has no way to know
  // the public keys of any other account.
  const key = store.serviceAccounts.get(iss);
  if (key && !verify("RSA-SHA256", Buffer.from(`${parts[0]}.${parts[1]}`), key, Buffer.from(parts[2], "base64url"))) {
    throw new SimHttpError(400, "Invalid JWT Signature.", { code: "invalid_grant" });
  }
  const accessToken = `ya29.sim_${randomBytes(24).toString("base64url")}`;
  store.tokens.set(accessToken, {
    scopes: claims.scope.split(/\s+/),
    subject: typeof claims.sub === "string" ? claims.sub.toLowerCase() : null,
    expiresAt: Date.now() + TOKEN_TTL_S * 1000,
  });
  sendJson(ctx.res, 200, { access_token: accessToken, expires_in: TOKEN_TTL_S - 1, token_type: "Bearer" });
}

/** A service account whose signatures the token endpoint will verify (JSON like Google's key file). */
async function issueServiceAccount(ctx: RouteContext): Promise<void> {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const clientEmail = `dex-provisioner-${randomBytes(3).toString("hex")}@poindexter-sim.iam.gserviceaccount.com`;
  googleStore(ctx.state).serviceAccounts.set(clientEmail, createPublicKey(publicKey.export({ format: "pem", type: "spki" })));
  sendJson(ctx.res, 200, {
    type: "service_account",
    project_id: "poindexter-sim",
    private_key_id: randomBytes(20).toString("hex"),
    private_key: privateKey.export({ format: "pem", type: "pkcs8" }),
    client_email: clientEmail,
    client_id: String(BigInt(`0x${randomBytes(8).toString("hex")}`)),
    token_uri: `http://${ctx.req.headers.host}/token`,
  });
}

// ---- Auth for the APIs ----

function authorize(ctx: RouteContext, needs: readonly string[]): { subject: string | null } {
  const header = ctx.req.headers.authorization ?? "";
  const value = header.startsWith("Bearer ") ? header.slice(7) : "";
  const grant = googleStore(ctx.state).tokens.get(value);
  if (!grant || grant.expiresAt < Date.now()) {
    throw new SimHttpError(401, "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.", { code: "authError" });
  }
  if (!grant.scopes.some((s) => needs.includes(s))) {
    throw new SimHttpError(403, "Request had insufficient authentication scopes.", { code: "insufficientPermissions" });
  }
  return { subject: grant.subject };
}

function json(ctx: RouteContext): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(ctx.body.toString("utf8") || "{}");
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // handled below
  }
  throw new SimHttpError(400, "Invalid JSON payload received.", { code: "parseError" });
}

// ---- Directory ----

function publicUser(user: DirectoryUser): Omit<DirectoryUser, "_password"> {
  const { _password: _omit, ...rest } = user;
  void _omit;
  return rest;
}

function findUser(store: GoogleStore, userKey: string): DirectoryUser {
  const key = decodeURIComponent(userKey).toLowerCase();
  const user = store.users.get(key) ?? [...store.users.values()].find((u) => u.id === key);
  if (!user) throw new SimHttpError(404, `Resource Not Found: userKey`, { code: "notFound" });
  return user;
}

async function createUser(ctx: RouteContext): Promise<void> {
  authorize(ctx, SCOPES.directory);
  const body = json(ctx);
  const store = googleStore(ctx.state);
  const email = typeof body.primaryEmail === "string" ? body.primaryEmail.toLowerCase() : "";
  if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) throw new SimHttpError(400, "Invalid Input: primary_user_email", { code: "invalid" });
  const name = body.name as { givenName?: unknown; familyName?: unknown } | undefined;
  if (typeof name?.givenName !== "string" || typeof name.familyName !== "string") throw new SimHttpError(400, "Invalid Given/Family Name: GivenName", { code: "invalid" });
  if (typeof body.password !== "string" || body.password.length < 8) throw new SimHttpError(400, "Invalid Password", { code: "invalid" });
  if (store.users.has(email)) throw new SimHttpError(409, "Entity already exists.", { code: "duplicate" });
  const user: DirectoryUser = {
    kind: "admin#directory#user",
    id: String(100_000_000_000_000_000_000n + BigInt(store.users.size + 1)),
    primaryEmail: email,
    name: { givenName: name.givenName, familyName: name.familyName, fullName: `${name.givenName} ${name.familyName}` },
    isAdmin: false,
    suspended: false,
    creationTime: new Date().toISOString(),
    customerId: "C0sim0001",
    orgUnitPath: typeof body.orgUnitPath === "string" ? body.orgUnitPath : "/",
    _password: body.password,
  };
  store.users.set(email, user);
  sendJson(ctx.res, 200, publicUser(user));
}

async function getUser(ctx: RouteContext): Promise<void> {
  authorize(ctx, SCOPES.directory);
  sendJson(ctx.res, 200, publicUser(findUser(googleStore(ctx.state), ctx.params[0])));
}

async function updateUser(ctx: RouteContext): Promise<void> {
  authorize(ctx, SCOPES.directory);
  const user = findUser(googleStore(ctx.state), ctx.params[0]);
  const body = json(ctx);
  if (typeof body.suspended === "boolean") user.suspended = body.suspended;
  if (typeof body.password === "string") user._password = body.password;
  const name = body.name as { givenName?: string; familyName?: string } | undefined;
  if (name?.givenName || name?.familyName) {
    user.name = { ...user.name, ...name } as DirectoryUser["name"];
    user.name.fullName = `${user.name.givenName} ${user.name.familyName}`;
  }
  sendJson(ctx.res, 200, publicUser(user));
}

async function deleteUser(ctx: RouteContext): Promise<void> {
  authorize(ctx, SCOPES.directory);
  const store = googleStore(ctx.state);
  const user = findUser(store, ctx.params[0]);
  store.users.delete(user.primaryEmail);
  store.mailboxes.delete(user.primaryEmail);
  ctx.res.writeHead(204);
  ctx.res.end();
}

async function listUsers(ctx: RouteContext): Promise<void> {
  authorize(ctx, SCOPES.directory);
  const domain = ctx.url.searchParams.get("domain");
  const users = [...googleStore(ctx.state).users.values()].filter((u) => !domain || u.primaryEmail.endsWith(`@${domain}`)).map(publicUser);
  sendJson(ctx.res, 200, { kind: "admin#directory#users", users });
}

// ---- Gmail ----

/** `me` is the impersonated user (the token's `sub`); naming another user is a delegation error. */
function mailboxOwner(ctx: RouteContext, subject: string | null): string {
  const userId = decodeURIComponent(ctx.params[0]).toLowerCase();
  const owner = userId === "me" ? subject : userId;
  if (!owner || (subject && owner !== subject)) throw new SimHttpError(403, `Delegation denied for ${subject ?? "the service account"}`, { code: "forbidden" });
  if (!googleStore(ctx.state).users.has(owner)) throw new SimHttpError(400, "Mail service not enabled", { code: "failedPrecondition", type: "FAILED_PRECONDITION" });
  return owner;
}

function addToMailbox(store: GoogleStore, owner: string, message: GmailMessage): void {
  const box = store.mailboxes.get(owner) ?? [];
  box.push(message);
  store.mailboxes.set(owner, box);
}

function gmailMessage(raw: string, labels: string[], threadId?: string): GmailMessage {
  const parsed = parseRfc2822(raw);
  const id = randomBytes(8).toString("hex");
  return {
    id,
    threadId: threadId ?? id,
    labelIds: labels,
    snippet: parsed.text.replace(/\s+/g, " ").trim().slice(0, 100),
    internalDate: String(Date.now()),
    raw,
    headers: parsed.headers,
    text: parsed.text,
  };
}

/** Stores a message for its sender (SENT) and every recipient who is a Directory user (INBOX), and captures it. */
function routeMail(state: SimulatorState, raw: string, sender: string | null): GmailMessage {
  const store = googleStore(state);
  const sent = gmailMessage(raw, ["SENT"]);
  const recipients = [...addresses(sent.headers.to), ...addresses(sent.headers.cc), ...addresses(sent.headers.bcc)];
  if (sender) addToMailbox(store, sender, sent);
  for (const recipient of recipients) {
    if (store.users.has(recipient)) addToMailbox(store, recipient, { ...gmailMessage(raw, ["INBOX", "UNREAD"], sent.threadId) });
  }
  const parsed = parseRfc2822(raw);
  captureMail(state, {
    via: "gmail",
    from: sent.headers.from ?? sender ?? "",
    to: addresses(sent.headers.to),
    cc: addresses(sent.headers.cc),
    subject: sent.headers.subject ?? "",
    text: parsed.text,
    html: parsed.html,
    headers: sent.headers,
  });
  return sent;
}

async function sendMail(ctx: RouteContext): Promise<void> {
  const { subject } = authorize(ctx, SCOPES.gmail);
  const owner = mailboxOwner(ctx, subject);
  const body = json(ctx);
  if (typeof body.raw !== "string" || body.raw === "") throw new SimHttpError(400, "'raw' RFC822 payload message string or uploading message via /upload/* URL required", { code: "invalidArgument" });
  const raw = Buffer.from(body.raw, "base64url").toString("utf8");
  const parsed = parseRfc2822(raw);
  if (addresses(parsed.headers.to).length + addresses(parsed.headers.cc).length + addresses(parsed.headers.bcc).length === 0) {
    throw new SimHttpError(400, "Invalid To header", { code: "invalidArgument" });
  }
  const sent = routeMail(ctx.state, raw, owner);
  sendJson(ctx.res, 200, { id: sent.id, threadId: sent.threadId, labelIds: sent.labelIds });
}

/** Gmail search, the subset adapters use: from:, to:, subject:, is:unread, in:inbox|sent, and free words. */
function matches(message: GmailMessage, q: string): boolean {
  const terms = q.match(/(?:[^\s"]+|"[^"]*")+/g) ?? [];
  return terms.every((term) => {
    const [field, ...rest] = term.split(":");
    const value = rest.join(":").replace(/"/g, "").toLowerCase();
    if (rest.length === 0) {
      const word = term.replace(/"/g, "").toLowerCase();
      return `${message.headers.subject ?? ""} ${message.text}`.toLowerCase().includes(word);
    }
    switch (field.toLowerCase()) {
      case "from":
        return (message.headers.from ?? "").toLowerCase().includes(value);
      case "to":
        return `${message.headers.to ?? ""} ${message.headers.cc ?? ""}`.toLowerCase().includes(value);
      case "subject":
        return (message.headers.subject ?? "").toLowerCase().includes(value);
      case "is":
        return value === "unread" ? message.labelIds.includes("UNREAD") : true;
      case "in":
        return message.labelIds.includes(value.toUpperCase());
      default:
        return true;
    }
  });
}

async function listMail(ctx: RouteContext): Promise<void> {
  const { subject } = authorize(ctx, SCOPES.gmail);
  const owner = mailboxOwner(ctx, subject);
  const q = ctx.url.searchParams.get("q") ?? "";
  const max = Math.min(500, Number(ctx.url.searchParams.get("maxResults") ?? 100) || 100);
  const offset = Number(ctx.url.searchParams.get("pageToken") ?? 0) || 0;
  const all = [...(googleStore(ctx.state).mailboxes.get(owner) ?? [])].reverse().filter((m) => matches(m, q));
  const page = all.slice(offset, offset + max);
  sendJson(ctx.res, 200, {
    ...(page.length ? { messages: page.map((m) => ({ id: m.id, threadId: m.threadId })) } : {}),
    ...(offset + max < all.length ? { nextPageToken: String(offset + max) } : {}),
    resultSizeEstimate: all.length,
  });
}

async function getMail(ctx: RouteContext): Promise<void> {
  const { subject } = authorize(ctx, SCOPES.gmail);
  const owner = mailboxOwner(ctx, subject);
  const message = (googleStore(ctx.state).mailboxes.get(owner) ?? []).find((m) => m.id === ctx.params[1]);
  if (!message) throw new SimHttpError(404, "Requested entity was not found.", { code: "notFound" });
  const format = ctx.url.searchParams.get("format") ?? "full";
  const base = { id: message.id, threadId: message.threadId, labelIds: message.labelIds, snippet: message.snippet, internalDate: message.internalDate, sizeEstimate: message.raw.length };
  if (format === "raw") return sendJson(ctx.res, 200, { ...base, raw: Buffer.from(message.raw).toString("base64url") });
  if (format === "minimal") return sendJson(ctx.res, 200, base);
  const headers = Object.entries(message.headers).map(([name, value]) => ({ name: name.replace(/(^|-)\w/g, (c) => c.toUpperCase()), value }));
  sendJson(ctx.res, 200, {
    ...base,
    payload: {
      mimeType: "text/plain",
      headers,
      body: format === "metadata" ? { size: message.text.length } : { size: message.text.length, data: Buffer.from(message.text).toString("base64url") },
    },
  });
}

async function modifyMail(ctx: RouteContext): Promise<void> {
  const { subject } = authorize(ctx, SCOPES.gmail);
  const owner = mailboxOwner(ctx, subject);
  const message = (googleStore(ctx.state).mailboxes.get(owner) ?? []).find((m) => m.id === ctx.params[1]);
  if (!message) throw new SimHttpError(404, "Requested entity was not found.", { code: "notFound" });
  const body = json(ctx);
  const labels = (v: unknown) => (Array.isArray(v) ? v.filter((l): l is string => typeof l === "string") : []);
  const remove = new Set(labels(body.removeLabelIds));
  message.labelIds = [...new Set([...message.labelIds.filter((l) => !remove.has(l)), ...labels(body.addLabelIds)])];
  sendJson(ctx.res, 200, { id: message.id, threadId: message.threadId, labelIds: message.labelIds });
}

/** messages.trash: the message leaves the inbox for TRASH (Gmail deletes it after 30 days). */
async function trashMail(ctx: RouteContext): Promise<void> {
  const { subject } = authorize(ctx, SCOPES.gmail);
  const owner = mailboxOwner(ctx, subject);
  const message = (googleStore(ctx.state).mailboxes.get(owner) ?? []).find((m) => m.id === ctx.params[1]);
  if (!message) throw new SimHttpError(404, "Requested entity was not found.", { code: "notFound" });
  message.labelIds = [...message.labelIds.filter((l) => l !== "INBOX" && l !== "UNREAD"), "TRASH"];
  sendJson(ctx.res, 200, { id: message.id, threadId: message.threadId, labelIds: message.labelIds });
}

// ---- Calendar ----

function calendarOwner(ctx: RouteContext, subject: string | null): string {
  const id = decodeURIComponent(ctx.params[0]).toLowerCase();
  const owner = id === "primary" ? subject : id;
  if (!owner) throw new SimHttpError(404, "Not Found", { code: "notFound" });
  return owner;
}

function when(value: unknown): { dateTime?: string; date?: string } | null {
  if (typeof value !== "object" || value === null) return null;
  const v = value as { dateTime?: unknown; date?: unknown; timeZone?: unknown };
  if (typeof v.dateTime === "string" && !Number.isNaN(Date.parse(v.dateTime))) return { dateTime: v.dateTime, ...(typeof v.timeZone === "string" ? { timeZone: v.timeZone } : {}) } as { dateTime: string };
  if (typeof v.date === "string" && /^\d{4}-\d{2}-\d{2}$/.test(v.date)) return { date: v.date };
  return null;
}

const startMs = (e: CalendarEvent) => Date.parse(e.start.dateTime ?? `${e.start.date}T00:00:00Z`);

async function createEvent(ctx: RouteContext): Promise<void> {
  const { subject } = authorize(ctx, SCOPES.calendar);
  const owner = calendarOwner(ctx, subject);
  const body = json(ctx);
  const start = when(body.start);
  const end = when(body.end);
  if (!start || !end) throw new SimHttpError(400, "Missing or invalid start/end time.", { code: "required" });
  if (startMs({ id: "", start }) > startMs({ id: "", start: end })) throw new SimHttpError(400, "The specified time range is empty.", { code: "timeRangeEmpty" });
  const id = randomUUID().replace(/-/g, "");
  const now = new Date().toISOString();
  const event: CalendarEvent = {
    kind: "calendar#event",
    id,
    status: "confirmed",
    htmlLink: `https://calendar.google.com/calendar/event?eid=${id}`,
    created: now,
    updated: now,
    summary: typeof body.summary === "string" ? body.summary : "",
    description: typeof body.description === "string" ? body.description : undefined,
    location: typeof body.location === "string" ? body.location : undefined,
    creator: { email: subject ?? owner },
    organizer: { email: owner, self: true },
    start,
    end,
    attendees: Array.isArray(body.attendees) ? body.attendees : undefined,
    iCalUID: `${id}@google.com`,
  };
  const store = googleStore(ctx.state);
  const calendar = store.calendars.get(owner) ?? [];
  calendar.push(event);
  store.calendars.set(owner, calendar);
  sendJson(ctx.res, 200, event);
}

/** events.update: a full replacement of the event's fields (id, creator and created kept). */
async function updateEvent(ctx: RouteContext): Promise<void> {
  const { subject } = authorize(ctx, SCOPES.calendar);
  const owner = calendarOwner(ctx, subject);
  const calendar = googleStore(ctx.state).calendars.get(owner) ?? [];
  const index = calendar.findIndex((e) => e.id === ctx.params[1]);
  if (index < 0) throw new SimHttpError(404, "Not Found", { code: "notFound" });
  const body = json(ctx);
  const start = when(body.start);
  const end = when(body.end);
  if (!start || !end) throw new SimHttpError(400, "Missing or invalid start/end time.", { code: "required" });
  if (startMs({ id: "", start }) > startMs({ id: "", start: end })) throw new SimHttpError(400, "The specified time range is empty.", { code: "timeRangeEmpty" });
  const old = calendar[index];
  const event: CalendarEvent = {
    ...old,
    updated: new Date().toISOString(),
    summary: typeof body.summary === "string" ? body.summary : "",
    description: typeof body.description === "string" ? body.description : undefined,
    location: typeof body.location === "string" ? body.location : undefined,
    start,
    end,
    attendees: Array.isArray(body.attendees) ? body.attendees : undefined,
  };
  calendar[index] = event;
  sendJson(ctx.res, 200, event);
}

async function listEvents(ctx: RouteContext): Promise<void> {
  const { subject } = authorize(ctx, SCOPES.calendar);
  const owner = calendarOwner(ctx, subject);
  const q = ctx.url.searchParams;
  const min = q.get("timeMin") ? Date.parse(q.get("timeMin")!) : Number.NEGATIVE_INFINITY;
  const max = q.get("timeMax") ? Date.parse(q.get("timeMax")!) : Number.POSITIVE_INFINITY;
  const limit = Math.min(2500, Number(q.get("maxResults") ?? 250) || 250);
  const offset = Number(q.get("pageToken") ?? 0) || 0;
  const all = (googleStore(ctx.state).calendars.get(owner) ?? [])
    .filter((e) => startMs(e) >= min && startMs(e) < max)
    .sort((a, b) => startMs(a) - startMs(b));
  const items = all.slice(offset, offset + limit);
  sendJson(ctx.res, 200, {
    kind: "calendar#events",
    summary: owner,
    timeZone: "UTC",
    updated: new Date().toISOString(),
    items,
    ...(offset + limit < all.length ? { nextPageToken: String(offset + limit) } : {}),
  });
}

async function deleteEvent(ctx: RouteContext): Promise<void> {
  const { subject } = authorize(ctx, SCOPES.calendar);
  const owner = calendarOwner(ctx, subject);
  const store = googleStore(ctx.state);
  const calendar = store.calendars.get(owner) ?? [];
  const index = calendar.findIndex((e) => e.id === ctx.params[1]);
  if (index < 0) throw new SimHttpError(404, "Not Found", { code: "notFound" });
  calendar.splice(index, 1);
  ctx.res.writeHead(204);
  ctx.res.end();
}

// ---- Control ----

/** Someone outside emails a Workspace user: lands in their INBOX (and the captured mail). */
async function deliverMailControl(ctx: RouteContext): Promise<void> {
  const body = json(ctx);
  if (typeof body.to !== "string" || typeof body.from !== "string") throw new SimHttpError(400, "body must be JSON {from, to, subject?, text?}");
  const store = googleStore(ctx.state);
  if (!store.users.has(body.to.toLowerCase())) throw new SimHttpError(404, `${body.to} is not a Directory user`);
  const raw = [`From: ${body.from}`, `To: ${body.to}`, `Subject: ${String(body.subject ?? "")}`, `Date: ${new Date().toUTCString()}`, "Content-Type: text/plain; charset=utf-8", "", String(body.text ?? "")].join("\r\n");
  const message = routeMail(ctx.state, raw, null);
  sendJson(ctx.res, 200, { id: message.id });
}

async function dumpStore(ctx: RouteContext): Promise<void> {
  const store = googleStore(ctx.state);
  sendJson(ctx.res, 200, {
    serviceAccounts: [...store.serviceAccounts.keys()],
    users: [...store.users.values()].map(publicUser),
    mailboxes: Object.fromEntries([...store.mailboxes].map(([owner, box]) => [owner, box.map(({ raw: _raw, ...m }) => m)])),
    calendars: Object.fromEntries(store.calendars),
  });
}

const api = (method: Route["method"], path: RegExp, handle: Route["handle"]): Route => ({ method, path, provider: googleFormat, handle });

export const googleRoutes: Route[] = [
  { method: "POST", path: /^\/token$/, provider: oauthFormat, handle: token },
  api("POST", /^\/admin\/directory\/v1\/users$/, createUser),
  api("GET", /^\/admin\/directory\/v1\/users$/, listUsers),
  api("GET", /^\/admin\/directory\/v1\/users\/([^/]+)$/, getUser),
  api("PUT", /^\/admin\/directory\/v1\/users\/([^/]+)$/, updateUser),
  api("PATCH", /^\/admin\/directory\/v1\/users\/([^/]+)$/, updateUser),
  api("DELETE", /^\/admin\/directory\/v1\/users\/([^/]+)$/, deleteUser),
  api("POST", /^\/gmail\/v1\/users\/([^/]+)\/messages\/send$/, sendMail),
  api("GET", /^\/gmail\/v1\/users\/([^/]+)\/messages$/, listMail),
  api("GET", /^\/gmail\/v1\/users\/([^/]+)\/messages\/([^/]+)$/, getMail),
  api("POST", /^\/gmail\/v1\/users\/([^/]+)\/messages\/([^/]+)\/modify$/, modifyMail),
  api("POST", /^\/gmail\/v1\/users\/([^/]+)\/messages\/([^/]+)\/trash$/, trashMail),
  api("GET", /^\/calendar\/v3\/calendars\/([^/]+)\/events$/, listEvents),
  api("DELETE", /^\/calendar\/v3\/calendars\/([^/]+)\/events\/([^/]+)$/, deleteEvent),
  api("PUT", /^\/calendar\/v3\/calendars\/([^/]+)\/events\/([^/]+)$/, updateEvent),
  api("POST", /^\/calendar\/v3\/calendars\/([^/]+)\/events$/, createEvent),
];

export const googleControlRoutes: Route[] = [
  { method: "GET", path: /^\/_sim\/google$/, provider: controlFormat, handle: dumpStore },
  { method: "POST", path: /^\/_sim\/google\/service-account$/, provider: controlFormat, handle: issueServiceAccount },
  { method: "POST", path: /^\/_sim\/google\/gmail\/deliver$/, provider: controlFormat, handle: deliverMailControl },
];

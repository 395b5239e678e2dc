// The Dex API, typed: one method per endpoint of `GET /v1/openapi.json` that an instance calls
// (identity, email, Signal, SMS, calendar, usage, API keys). Every call carries the stored access
// token, refreshed a minute before it expires and once more if the API answers 401 anyway (a
// clock off, a token rotated by another process); errors become DexApiError with the API's
// OpenAI-style code.
import { DexApiError, NotConnectedError } from "./errors";
import { refreshTokens } from "./oauth";
import type { StoredTokens, TokenStore } from "./tokenStore";

// ---- Shapes (convex/model/dexApi/schemas.ts on the server) ----

export interface Identity {
  object: "identity";
  /** provisioning, captcha_needed, retry_later, failed, active, suspended, deprovisioning, ... */
  status: string;
  phase: string;
  features: { email: boolean; phone: boolean; signal: boolean };
  email: { address: string | null; ready: boolean } | null;
  phone: { number: string | null } | null;
  signal: { status: string; number: string | null } | null;
  created_at: number;
  activated_at: number | null;
}

export interface IdentityStep {
  name: string;
  label: string;
  status: string;
  waiting_for: string | null;
  not_before: number | null;
  error: string | null;
  started_at: number | null;
  finished_at: number | null;
}

export interface IdentityStatus {
  object: "identity.status";
  status: string;
  phase: string;
  action: null | ({ kind: string } & Record<string, unknown>);
  steps: IdentityStep[];
}

export interface Page<T> {
  object: "list";
  data: T[];
  next_cursor: string | null;
}

export interface SendEmail {
  to: string[];
  cc?: string[];
  bcc?: string[];
  subject: string;
  text: string;
  html?: string;
  reply_to?: string;
  in_reply_to?: string;
}
export interface SentEmail {
  object: "email.sent";
  id: string;
  thread_id: string;
  from: string;
}
export interface EmailSummary {
  id: string;
  thread_id: string;
  from: string;
  to: string;
  subject: string;
  snippet: string;
  date: string | null;
  received_at: number;
  labels: string[];
  unread: boolean;
}
export interface EmailMessage extends EmailSummary {
  object: "email.message";
  cc: string;
  text: string;
  html: string | null;
}
export interface DeletedEmail {
  object: "email.message";
  id: string;
  deleted: true;
  trashed: true;
}

export interface SentSignal {
  object: "signal.sent";
  timestamp: number;
  recipients: string[];
}
export interface SignalMessage {
  id: string;
  source: string;
  message: string;
  sent_at: number;
  received_at: number;
}
export interface SignalContact {
  number: string | null;
  uuid: string | null;
  name: string;
  profile_name: string;
}
export interface SmsMessage {
  id: string;
  from: string;
  to: string;
  text: string;
  received_at: number;
}

export type EventTime = { date_time: string; time_zone?: string } | { date: string };
export interface CalendarEventInput {
  summary: string;
  description?: string;
  location?: string;
  start: EventTime;
  end: EventTime;
  attendees?: { email: string }[];
}
export interface CalendarEvent {
  object: "calendar.event";
  id: string;
  status: string;
  summary: string;
  description: string | null;
  location: string | null;
  start: { date_time: string | null; date: string | null; time_zone: string | null };
  end: { date_time: string | null; date: string | null; time_zone: string | null };
  attendees: { email: string }[];
  html_link: string | null;
  updated: string | null;
}

export interface Usage {
  month: string;
  plan: string;
  models: ({ model: string; requests: number } & Record<string, unknown>)[];
  /** Dex API operations this month by kind (email_sent, signal_sent, ...), when the server reports them. */
  operations?: Record<string, number>;
  [field: string]: unknown;
}
export interface UsageRemaining {
  month: string;
  plan: string;
  includedTokens: number;
  hardCapTokens: number;
  usedTokens: number;
  heldTokens: number;
  remainingIncluded: number;
  remainingTokens: number;
  resetsAt: number;
}
export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  [field: string]: unknown;
}
export interface CreatedApiKey {
  id: string;
  secret: string;
  prefix: string;
  [field: string]: unknown;
}

export interface PageQuery {
  limit?: number;
  cursor?: string;
}

// ---- The client ----

/** Each method's endpoint, as `GET /v1/openapi.json` names it (the runtime test compares the two). */
export const ROUTES = {
  identity: "GET /v1/identity",
  identityStatus: "GET /v1/identity/status",
  identityEmail: "GET /v1/identity/email",
  identityPhone: "GET /v1/identity/phone",
  identitySignal: "GET /v1/identity/signal",
  sendEmail: "POST /v1/email/send",
  inbox: "GET /v1/email/inbox",
  email: "GET /v1/email/messages/{id}",
  deleteEmail: "DELETE /v1/email/messages/{id}",
  sendSignal: "POST /v1/signal/send",
  signalMessages: "GET /v1/signal/messages",
  signalContacts: "GET /v1/signal/contacts",
  smsMessages: "GET /v1/sms/messages",
  calendarEvents: "GET /v1/calendar/events",
  createCalendarEvent: "POST /v1/calendar/events",
  updateCalendarEvent: "PUT /v1/calendar/events/{id}",
  deleteCalendarEvent: "DELETE /v1/calendar/events/{id}",
  usage: "GET /v1/usage",
  remaining: "GET /v1/usage/remaining",
  apiKeys: "GET /v1/api-keys",
  createApiKey: "POST /v1/api-keys",
  revokeApiKey: "DELETE /v1/api-keys/{id}",
} as const;

export interface DexClientOptions {
  store: TokenStore;
  fetch?: typeof fetch;
  /** Refresh this long before the access token's expiry (default 60 s). */
  refreshSkewMs?: number;
}

type Query = Record<string, string | number | undefined>;

export class DexClient {
  private readonly store: TokenStore;
  private readonly fetchImpl: typeof fetch;
  private readonly skew: number;
  /** One refresh at a time in this process: concurrent calls share it instead of racing. */
  private refreshing: Promise<StoredTokens> | null = null;

  constructor(opts: DexClientOptions) {
    this.store = opts.store;
    this.fetchImpl = opts.fetch ?? globalThis.fetch.bind(globalThis);
    this.skew = opts.refreshSkewMs ?? 60_000;
  }

  private async current(): Promise<StoredTokens> {
    const tokens = await this.store.load();
    if (tokens === null) throw new NotConnectedError("This instance is not connected to Poindexter Cloud. Run connect first.");
    return tokens;
  }

  private async refresh(from: StoredTokens): Promise<StoredTokens> {
    this.refreshing ??= refreshTokens(from, this.store, this.fetchImpl).finally(() => {
      this.refreshing = null;
    });
    return await this.refreshing;
  }

  /** The stored pair, refreshed first if the access token ends within the skew. */
  async tokens(): Promise<StoredTokens> {
    const tokens = await this.current();
    if (tokens.expiresAt - Date.now() > this.skew) return tokens;
    return await this.refresh(tokens);
  }

  /** One Dex API call: JSON in, JSON out, a refresh and one retry on 401. */
  async request<T>(method: "GET" | "POST" | "PUT" | "DELETE", path: string, opts: { query?: Query; body?: unknown } = {}): Promise<T> {
    let tokens = await this.tokens();
    for (let attempt = 0; ; attempt++) {
      const url = new URL(path, tokens.issuer.replace(/\/?$/, "/"));
      for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
      const res = await this.fetchImpl(url, {
        method,
        headers: {
          authorization: `Bearer ${tokens.accessToken}`,
          accept: "application/json",
          "x-dex-instance": tokens.clientId,
          ...(opts.body !== undefined ? { "content-type": "application/json" } : {}),
        },
        ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
      });
      if (res.status === 401 && attempt === 0) {
        tokens = await this.refresh(tokens);
        continue;
      }
      const text = await res.text();
      if (!res.ok) throw errorOf(res, text);
      return (text ? JSON.parse(text) : null) as T;
    }
  }

  private call<T>(name: keyof typeof ROUTES, opts: { id?: string; query?: Query; body?: unknown } = {}): Promise<T> {
    const [method, template] = ROUTES[name].split(" ") as ["GET" | "POST" | "PUT" | "DELETE", string];
    const p = template.slice(1).replace("{id}", encodeURIComponent(opts.id ?? ""));
    return this.request<T>(method, p, { ...(opts.query ? { query: opts.query } : {}), ...(opts.body !== undefined ? { body: opts.body } : {}) });
  }

  // Identity
  identity = () => this.call<Identity>("identity");
  identityStatus = () => this.call<IdentityStatus>("identityStatus");
  identityEmail = () => this.call<{ object: "identity.email"; address: string | null; ready: boolean }>("identityEmail");
  identityPhone = () => this.call<{ object: "identity.phone"; number: string | null; sms: boolean }>("identityPhone");
  identitySignal = () => this.call<{ object: "identity.signal"; status: string; number: string | null }>("identitySignal");
  // Email
  sendEmail = (mail: SendEmail) => this.call<SentEmail>("sendEmail", { body: mail });
  inbox = (q: PageQuery & { q?: string } = {}) => this.call<Page<EmailSummary>>("inbox", { query: { ...q } });
  email = (id: string) => this.call<EmailMessage>("email", { id });
  deleteEmail = (id: string) => this.call<DeletedEmail>("deleteEmail", { id });
  // Signal
  sendSignal = (msg: { recipients: string[]; message: string }) => this.call<SentSignal>("sendSignal", { body: msg });
  signalMessages = (q: PageQuery = {}) => this.call<Page<SignalMessage>>("signalMessages", { query: { ...q } });
  signalContacts = () => this.call<{ object: "list"; data: SignalContact[] }>("signalContacts");
  // SMS
  smsMessages = (q: PageQuery = {}) => this.call<Page<SmsMessage>>("smsMessages", { query: { ...q } });
  // Calendar
  calendarEvents = (q: PageQuery & { time_min?: string; time_max?: string } = {}) => this.call<Page<CalendarEvent>>("calendarEvents", { query: { ...q } });
  createCalendarEvent = (event: CalendarEventInput) => this.call<CalendarEvent>("createCalendarEvent", { body: event });
  updateCalendarEvent = (id: string, event: CalendarEventInput) => this.call<CalendarEvent>("updateCalendarEvent", { id, body: event });
  deleteCalendarEvent = (id: string) => this.call<{ object: "calendar.event"; id: string; deleted: true }>("deleteCalendarEvent", { id });
  // Usage
  usage = (month?: string) => this.call<Usage>("usage", { query: { month } });
  remaining = (month?: string) => this.call<UsageRemaining>("remaining", { query: { month } });
  // API keys (the server accepts these with an API key only: a connected instance gets 403 insufficient_scope).
  apiKeys = () => this.call<{ object: "list"; data: ApiKey[] }>("apiKeys");
  createApiKey = (name: string) => this.call<CreatedApiKey>("createApiKey", { body: { name } });
  revokeApiKey = (id: string) => this.call<{ id: string; object: "api_key"; revoked: true }>("revokeApiKey", { id });
}

function errorOf(res: Response, text: string): DexApiError {
  const retry = res.headers.get("retry-after");
  const retryAfter = retry !== null && /^\d+$/.test(retry) ? Number(retry) : null;
  try {
    const body = JSON.parse(text) as { error?: { message?: string; type?: string; param?: string | null; code?: string | null } };
    if (body.error && typeof body.error.message === "string") {
      return new DexApiError(res.status, body.error.code ?? body.error.type ?? `http_${res.status}`, body.error.type ?? "api_error", body.error.message, body.error.param ?? null, retryAfter);
    }
  } catch {
    // Not JSON: fall through to a generic error carrying the status.
  }
  return new DexApiError(res.status, `http_${res.status}`, "api_error", `The Dex API answered ${res.status}${text ? `: ${text.slice(0, 200)}` : ""}.`, null, retryAfter);
}

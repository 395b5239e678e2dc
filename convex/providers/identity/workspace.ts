// Gmail and Calendar as the mailbox user (domain-wide delegation, JWT `sub` = the identity's
// address), for the Dex API: send, list the inbox a page at a time, get, trash; list, insert,
// update and delete events of the primary calendar. Errors go through the one classification
// (google.ts classifyGoogle): retryable ones throw, the rest resolve as typed failures.
import { bodiesOf, headersOf, rawMessage, type OutgoingMail } from "../../model/dexApi/mime";
import { CALENDAR_EVENTS_SCOPE, classifyGoogle, GMAIL_MODIFY_SCOPE, googleRequest, type GoogleConfig } from "./google";
import { ok, type ProviderOutcome, type WireResponse } from "./types";

const isOk = (status: number) => status >= 200 && status < 300;

async function gmail(config: GoogleConfig, mailbox: string, method: string, path: string, body?: unknown): Promise<ProviderOutcome<WireResponse>> {
  const res = await googleRequest(config, GMAIL_MODIFY_SCOPE, mailbox, method, "gmail", `/users/me${path}`, body);
  if (res.kind !== "ok") return res;
  return isOk(res.value.status) ? res : classifyGoogle(res.value);
}

async function calendar(config: GoogleConfig, mailbox: string, method: string, path: string, body?: unknown): Promise<ProviderOutcome<WireResponse>> {
  const res = await googleRequest(config, CALENDAR_EVENTS_SCOPE, mailbox, method, "calendar", `/calendars/primary${path}`, body);
  if (res.kind !== "ok") return res;
  return isOk(res.value.status) ? res : classifyGoogle(res.value);
}

// ---- Gmail ----

export async function sendMail(config: GoogleConfig, mailbox: string, mail: Omit<OutgoingMail, "from">): Promise<ProviderOutcome<{ id: string; threadId: string }>> {
  const res = await gmail(config, mailbox, "POST", "/messages/send", { raw: rawMessage({ ...mail, from: mailbox }) });
  if (res.kind !== "ok") return res;
  const body = res.value.json as { id?: unknown; threadId?: unknown } | null;
  return ok({ id: String(body?.id ?? ""), threadId: String(body?.threadId ?? body?.id ?? "") });
}

export interface MailSummary {
  id: string;
  threadId: string;
  from: string;
  to: string;
  cc: string;
  subject: string;
  snippet: string;
  date: string | null;
  internalDate: number;
  labels: string[];
}

export interface MailMessage extends MailSummary {
  text: string;
  html: string | null;
}

interface GmailMessageJson {
  id?: unknown;
  threadId?: unknown;
  labelIds?: unknown;
  snippet?: unknown;
  internalDate?: unknown;
  payload?: Parameters<typeof headersOf>[0];
}

function summaryOf(json: unknown): MailSummary {
  const m = (json ?? {}) as GmailMessageJson;
  const h = headersOf(m.payload);
  return {
    id: String(m.id ?? ""),
    threadId: String(m.threadId ?? m.id ?? ""),
    from: h.from ?? "",
    to: h.to ?? "",
    cc: h.cc ?? "",
    subject: h.subject ?? "",
    snippet: typeof m.snippet === "string" ? m.snippet : "",
    date: h.date ?? null,
    internalDate: Number(m.internalDate ?? 0),
    labels: Array.isArray(m.labelIds) ? m.labelIds.map(String) : [],
  };
}

/** One page of the inbox (newest first): ids from `messages.list`, then each message's headers. */
export async function listInbox(
  config: GoogleConfig,
  mailbox: string,
  options: { limit: number; pageToken?: string; q?: string },
): Promise<ProviderOutcome<{ messages: MailSummary[]; nextPageToken: string | null }>> {
  const params = new URLSearchParams({ maxResults: String(options.limit), q: `in:inbox ${options.q ?? ""}`.trim() });
  if (options.pageToken) params.set("pageToken", options.pageToken);
  const list = await gmail(config, mailbox, "GET", `/messages?${params.toString()}`);
  if (list.kind !== "ok") return list;
  const body = list.value.json as { messages?: { id?: unknown }[]; nextPageToken?: unknown } | null;
  const ids = (body?.messages ?? []).map((m) => String(m.id ?? "")).filter(Boolean);
  const messages: MailSummary[] = [];
  // Headers only, a few at a time: a page is at most 50 messages.
  for (let i = 0; i < ids.length; i += 10) {
    const got = await Promise.all(ids.slice(i, i + 10).map((id) => gmail(config, mailbox, "GET", `/messages/${encodeURIComponent(id)}?format=metadata`)));
    for (const g of got) {
      // A message trashed between the list and the get is skipped, not an error.
      if (g.kind === "ok") messages.push(summaryOf(g.value.json));
      else if (!(g.kind === "permanent" && g.status === 404)) return g;
    }
  }
  return ok({ messages, nextPageToken: typeof body?.nextPageToken === "string" ? body.nextPageToken : null });
}

/** One message with its bodies; `null` when there is no such message in the mailbox. */
export async function getMail(config: GoogleConfig, mailbox: string, id: string): Promise<ProviderOutcome<MailMessage | null>> {
  const res = await gmail(config, mailbox, "GET", `/messages/${encodeURIComponent(id)}?format=full`);
  if (res.kind === "permanent" && res.status === 404) return ok(null);
  if (res.kind !== "ok") return res;
  const json = res.value.json as GmailMessageJson;
  return ok({ ...summaryOf(json), ...bodiesOf(json.payload) });
}

/** Moves a message to the trash (`messages.trash`; gmail.modify cannot delete outright). `false`: no such message. */
export async function trashMail(config: GoogleConfig, mailbox: string, id: string): Promise<ProviderOutcome<boolean>> {
  const res = await gmail(config, mailbox, "POST", `/messages/${encodeURIComponent(id)}/trash`);
  if (res.kind === "permanent" && res.status === 404) return ok(false);
  if (res.kind !== "ok") return res;
  return ok(true);
}

// ---- Calendar ----

export interface EventTimeIn {
  dateTime?: string;
  date?: string;
  timeZone?: string;
}

export interface EventInput {
  summary: string;
  description?: string;
  location?: string;
  start: EventTimeIn;
  end: EventTimeIn;
  attendees?: { email: string }[];
}

export interface CalendarEventOut {
  id: string;
  status: string;
  summary: string;
  description: string | null;
  location: string | null;
  start: { dateTime: string | null; date: string | null; timeZone: string | null };
  end: { dateTime: string | null; date: string | null; timeZone: string | null };
  attendees: { email: string }[];
  htmlLink: string | null;
  updated: string | null;
}

function timeOf(value: unknown): CalendarEventOut["start"] {
  const t = (value ?? {}) as { dateTime?: unknown; date?: unknown; timeZone?: unknown };
  const str = (x: unknown) => (typeof x === "string" ? x : null);
  return { dateTime: str(t.dateTime), date: str(t.date), timeZone: str(t.timeZone) };
}

function eventOf(json: unknown): CalendarEventOut {
  const e = (json ?? {}) as Record<string, unknown>;
  const str = (x: unknown) => (typeof x === "string" ? x : null);
  return {
    id: String(e.id ?? ""),
    status: str(e.status) ?? "confirmed",
    summary: str(e.summary) ?? "",
    description: str(e.description),
    location: str(e.location),
    start: timeOf(e.start),
    end: timeOf(e.end),
    attendees: Array.isArray(e.attendees) ? e.attendees.map((a) => ({ email: String((a as { email?: unknown }).email ?? "") })) : [],
    htmlLink: str(e.htmlLink),
    updated: str(e.updated),
  };
}

export async function listEvents(
  config: GoogleConfig,
  mailbox: string,
  options: { timeMin?: string; timeMax?: string; limit: number; pageToken?: string },
): Promise<ProviderOutcome<{ events: CalendarEventOut[]; nextPageToken: string | null }>> {
  const params = new URLSearchParams({ singleEvents: "true", orderBy: "startTime", maxResults: String(options.limit) });
  if (options.timeMin) params.set("timeMin", options.timeMin);
  if (options.timeMax) params.set("timeMax", options.timeMax);
  if (options.pageToken) params.set("pageToken", options.pageToken);
  const res = await calendar(config, mailbox, "GET", `/events?${params.toString()}`);
  if (res.kind !== "ok") return res;
  const body = res.value.json as { items?: unknown[]; nextPageToken?: unknown } | null;
  return ok({ events: (body?.items ?? []).map(eventOf), nextPageToken: typeof body?.nextPageToken === "string" ? body.nextPageToken : null });
}

export async function insertEvent(config: GoogleConfig, mailbox: string, event: EventInput): Promise<ProviderOutcome<CalendarEventOut>> {
  const res = await calendar(config, mailbox, "POST", "/events", event);
  if (res.kind !== "ok") return res;
  return ok(eventOf(res.value.json));
}

/** events.update (a full replacement); `null` when there is no such event. */
export async function updateEvent(config: GoogleConfig, mailbox: string, id: string, event: EventInput): Promise<ProviderOutcome<CalendarEventOut | null>> {
  const res = await calendar(config, mailbox, "PUT", `/events/${encodeURIComponent(id)}`, event);
  if (res.kind === "permanent" && (res.status === 404 || res.status === 410)) return ok(null);
  if (res.kind !== "ok") return res;
  return ok(eventOf(res.value.json));
}

/** events.delete; `false` when there was no such event (404, or 410 already deleted). */
export async function deleteEvent(config: GoogleConfig, mailbox: string, id: string): Promise<ProviderOutcome<boolean>> {
  const res = await calendar(config, mailbox, "DELETE", `/events/${encodeURIComponent(id)}`);
  if (res.kind === "permanent" && (res.status === 404 || res.status === 410)) return ok(false);
  if (res.kind !== "ok") return res;
  return ok(true);
}

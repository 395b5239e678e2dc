// The Dex API's request and response shapes, as zod schemas: the handlers parse with them and
// the OpenAPI document (openapi.ts) is generated from them, so the two cannot drift. Pure.
import { z } from "zod";

// ---- Shared pieces ----

/** RFC 5321 caps an address at 254 characters; no CR/LF so nothing can be injected into headers. */
export const emailAddress = z.email().max(254).describe("An email address.");
/** E.164: a plus sign and 8 to 15 digits. */
export const e164 = z
  .string()
  .regex(/^\+[1-9]\d{7,14}$/, "must be an E.164 phone number such as +12025550100")
  .describe("A phone number in E.164 form, e.g. +12025550100.");
/** A provider's id in a path: Gmail message ids and Calendar event ids are short url-safe strings. */
export const providerId = z.string().regex(/^[A-Za-z0-9_-]{1,256}$/, "must be 1 to 256 letters, digits, '-' or '_'");
/** A single header line: RFC 5322 caps a line at 998 characters and forbids bare CR/LF in it. */
const headerText = (max: number) => z.string().max(max).regex(/^[^\r\n]*$/, "must be one line (no CR or LF)");
const isoDateTime = z.iso.datetime({ offset: true }).describe("RFC 3339 date-time with an offset, e.g. 2026-12-01T09:00:00Z.");
const limit = (max: number, fallback: number) =>
  z.coerce.number().int().min(1).max(max).default(fallback).describe(`How many to return (1-${max}, default ${fallback}).`);
const cursor = z.string().min(1).max(2048).optional().describe("The `next_cursor` of the previous page.");

export const errorSchema = z
  .object({
    error: z.object({
      message: z.string(),
      type: z.string(),
      param: z.string().nullable(),
      code: z.string().nullable(),
    }),
  })
  .describe("Every error, in OpenAI's shape.");

// ---- Identity ----

const stepStatus = z.enum(["pending", "running", "waiting", "done", "failed", "skipped"]);

export const identityResponse = z.object({
  object: z.literal("identity"),
  status: z.string().describe("provisioning, captcha_needed, retry_later, failed, active, suspended, deprovisioning, awaiting_deletion, deprovisioned"),
  phase: z.string(),
  features: z.object({ email: z.boolean(), phone: z.boolean(), signal: z.boolean() }),
  email: z.object({ address: z.string().nullable(), ready: z.boolean() }).nullable(),
  phone: z.object({ number: z.string().nullable() }).nullable(),
  signal: z.object({ status: z.string(), number: z.string().nullable() }).nullable(),
  created_at: z.number(),
  activated_at: z.number().nullable(),
});

export const identityStatusResponse = z.object({
  object: z.literal("identity.status"),
  status: z.string(),
  phase: z.string(),
  action: z.union([z.null(), z.object({ kind: z.string() }).loose()]),
  steps: z.array(
    z.object({
      name: z.string(),
      label: z.string(),
      status: z.union([stepStatus, z.string()]),
      waiting_for: z.string().nullable(),
      not_before: z.number().nullable(),
      error: z.string().nullable(),
      started_at: z.number().nullable(),
      finished_at: z.number().nullable(),
    }),
  ),
});

export const identityEmailResponse = z.object({ object: z.literal("identity.email"), address: z.string().nullable(), ready: z.boolean() });
export const identityPhoneResponse = z.object({ object: z.literal("identity.phone"), number: z.string().nullable(), sms: z.boolean() });
export const identitySignalResponse = z.object({ object: z.literal("identity.signal"), status: z.string(), number: z.string().nullable() });

// ---- Email (Gmail, as the mailbox user) ----

export const MAX_RECIPIENTS = 100;

export const sendEmailBody = z
  .object({
    to: z.array(emailAddress).min(1).max(MAX_RECIPIENTS),
    cc: z.array(emailAddress).max(MAX_RECIPIENTS).optional(),
    bcc: z.array(emailAddress).max(MAX_RECIPIENTS).optional(),
    subject: headerText(998),
    text: z.string().max(500_000).describe("The plain-text body."),
    html: z.string().max(1_000_000).optional().describe("An HTML alternative to `text`."),
    reply_to: emailAddress.optional(),
    in_reply_to: headerText(998).optional().describe("The Message-ID this mail answers (threads the reply)."),
  })
  .strict()
  .refine((b) => b.to.length + (b.cc?.length ?? 0) + (b.bcc?.length ?? 0) <= MAX_RECIPIENTS, {
    message: `at most ${MAX_RECIPIENTS} recipients in to, cc and bcc together`,
    path: ["to"],
  });
export type SendEmailBody = z.infer<typeof sendEmailBody>;

export const sendEmailResponse = z.object({ object: z.literal("email.sent"), id: z.string(), thread_id: z.string(), from: z.string() });

export const inboxQuery = z
  .object({
    limit: limit(50, 20),
    cursor,
    q: z.string().max(500).optional().describe("A Gmail search, e.g. `from:alice is:unread`."),
  })
  .strict();

export const emailSummary = z.object({
  id: z.string(),
  thread_id: z.string(),
  from: z.string(),
  to: z.string(),
  subject: z.string(),
  snippet: z.string(),
  date: z.string().nullable(),
  received_at: z.number(),
  labels: z.array(z.string()),
  unread: z.boolean(),
});
export const emailMessage = emailSummary.extend({ object: z.literal("email.message"), cc: z.string(), text: z.string(), html: z.string().nullable() });
export const inboxResponse = z.object({ object: z.literal("list"), data: z.array(emailSummary), next_cursor: z.string().nullable() });
export const deletedEmailResponse = z.object({ object: z.literal("email.message"), id: z.string(), deleted: z.literal(true), trashed: z.literal(true) });

// ---- Signal ----

export const sendSignalBody = z
  .object({
    recipients: z.array(e164).min(1).max(20),
    message: z.string().min(1).max(4000),
  })
  .strict();
export const sendSignalResponse = z.object({ object: z.literal("signal.sent"), timestamp: z.number(), recipients: z.array(z.string()) });
export const pageQuery = z.object({ limit: limit(100, 50), cursor }).strict();
export const signalMessage = z.object({ id: z.string(), source: z.string(), message: z.string(), sent_at: z.number(), received_at: z.number() });
export const signalMessagesResponse = z.object({ object: z.literal("list"), data: z.array(signalMessage), next_cursor: z.string().nullable() });
export const signalContact = z.object({ number: z.string().nullable(), uuid: z.string().nullable(), name: z.string(), profile_name: z.string() });
export const signalContactsResponse = z.object({ object: z.literal("list"), data: z.array(signalContact) });

// ---- SMS ----

export const smsMessage = z.object({ id: z.string(), from: z.string(), to: z.string(), text: z.string(), received_at: z.number() });
export const smsMessagesResponse = z.object({ object: z.literal("list"), data: z.array(smsMessage), next_cursor: z.string().nullable() });

// ---- Calendar (Google Calendar, the mailbox user's primary calendar) ----

const eventTime = z.union([
  z.object({ date_time: isoDateTime, time_zone: z.string().max(64).optional() }).strict(),
  z.object({ date: z.iso.date().describe("An all-day date, YYYY-MM-DD.") }).strict(),
]);
export type EventTime = z.infer<typeof eventTime>;
const timeMs = (t: EventTime) => Date.parse("date" in t ? `${t.date}T00:00:00Z` : t.date_time);

export const calendarEventBody = z
  .object({
    summary: z.string().max(1024),
    description: z.string().max(8192).optional(),
    location: z.string().max(1024).optional(),
    start: eventTime,
    end: eventTime,
    attendees: z.array(z.object({ email: emailAddress }).strict()).max(100).optional(),
  })
  .strict()
  .refine((e) => timeMs(e.end) >= timeMs(e.start), { message: "end must not be before start", path: ["end"] });
export type CalendarEventBody = z.infer<typeof calendarEventBody>;

export const calendarListQuery = z
  .object({
    time_min: isoDateTime.optional(),
    time_max: isoDateTime.optional(),
    limit: limit(250, 50),
    cursor,
  })
  .strict();

const eventTimeOut = z.object({ date_time: z.string().nullable(), date: z.string().nullable(), time_zone: z.string().nullable() });
export const calendarEvent = z.object({
  object: z.literal("calendar.event"),
  id: z.string(),
  status: z.string(),
  summary: z.string(),
  description: z.string().nullable(),
  location: z.string().nullable(),
  start: eventTimeOut,
  end: eventTimeOut,
  attendees: z.array(z.object({ email: z.string() })),
  html_link: z.string().nullable(),
  updated: z.string().nullable(),
});
export const calendarEventsResponse = z.object({ object: z.literal("list"), data: z.array(calendarEvent), next_cursor: z.string().nullable() });
export const deletedEventResponse = z.object({ object: z.literal("calendar.event"), id: z.string(), deleted: z.literal(true) });

// ---- Usage, keys, billing (existing endpoints, described for the document) ----

export const monthQuery = z.object({ month: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/).optional().describe("UTC month, e.g. 2026-11 (default: this month).") }).strict();
export const usageResponse = z
  .object({
    month: z.string(),
    plan: z.string(),
    models: z.array(z.object({ model: z.string(), requests: z.number() }).loose()),
    operations: z.record(z.string(), z.number()).describe("Dex API operations this month, by usage kind (email_sent, signal_sent, ...)."),
  })
  .loose();
export const usageRemainingResponse = z
  .object({ month: z.string(), plan: z.string(), remainingTokens: z.number(), resetsAt: z.number() })
  .loose();
export const createKeyBody = z.object({ name: z.string().min(1).max(100), environment: z.enum(["live", "test"]).optional() });
export const createdKeyResponse = z.object({ id: z.string(), secret: z.string(), prefix: z.string() });
export const keyListResponse = z.object({ object: z.literal("list"), data: z.array(z.object({ id: z.string(), name: z.string(), prefix: z.string() }).loose()) });
export const revokedKeyResponse = z.object({ id: z.string(), object: z.literal("api_key"), revoked: z.literal(true) });
export const subscribeBody = z.object({ plan: z.enum(["basic", "pro"]) }).loose();
export const urlResponse = z.object({ url: z.string() }).loose();
export const subscriptionResponse = z.object({ plan: z.string(), state: z.string() }).loose();
/** The AI proxy's endpoints take and return OpenAI's own shapes (docs/proxy.md). */
export const openAiBody = z.object({ model: z.string() }).loose().describe("OpenAI's request shape for this endpoint.");
export const openAiResponse = z.object({}).loose().describe("OpenAI's response shape for this endpoint.");

export const openApiDocumentResponse = z.object({ openapi: z.string(), info: z.object({}).loose(), paths: z.object({}).loose() }).loose();

/** A zod failure as one readable sentence and the offending parameter, for a 400. */
export function describeIssues(error: z.ZodError): { message: string; param: string | null } {
  const issue = error.issues[0];
  const param = issue && issue.path.length > 0 ? issue.path.map(String).join(".") : null;
  const message = error.issues
    .slice(0, 3)
    .map((i) => (i.path.length ? `'${i.path.map(String).join(".")}': ${i.message}` : i.message))
    .join("; ");
  return { message: `Invalid request: ${message}.`, param };
}

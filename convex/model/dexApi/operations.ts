// Every operation under /v1: method, path, who may call it (an OAuth scope, or an API key only),
// the plan feature it needs, its rate-limit group, the usage event it records and its request and
// response schemas. dexApi/routes.ts mounts the Dex API from this table, the handlers parse with
// its schemas, and openapi.ts documents it, so route, validation and document share one source.
// Pure.
import type { z } from "zod";
import type { Feature } from "../plans";
import * as s from "./schemas";

/** The grant scopes of model/oauth (schema/oauth.ts oauthScopeValidator). An API key has all of them. */
export type Scope = "identity" | "email" | "signal" | "calendar" | "ai" | "usage";
export const SCOPES: readonly Scope[] = ["identity", "email", "signal", "calendar", "ai", "usage"];

/**
 * Who may call: a scope (an OAuth access token carrying it, or any API key), `api_key` (keys only:
 * minting keys or starting a checkout from a token would reach beyond what the grant shows on the
 * consent page), or `none` (the document itself).
 */
export type Access = { scope: Scope } | "api_key" | "none";

/** Rate-limit groups (limits.ts): writes that reach a person are limited hardest. */
export type LimitGroup = "read" | "email_send" | "email_write" | "signal_send" | "calendar_write" | "account";

/** Usage events the Dex API records (schema/validators.ts usageKindValidator), shown as counts. */
export type DexUsageKind = "email_sent" | "email_deleted" | "signal_sent" | "calendar_write";
export const DEX_USAGE_KINDS: readonly DexUsageKind[] = ["email_sent", "email_deleted", "signal_sent", "calendar_write"];

/** What an operation needs of the identity before a provider is called. */
export type Needs = "mailbox" | "signal" | "phone" | null;

export type Method = "GET" | "POST" | "PUT" | "DELETE";

export interface Operation {
  id: string;
  method: Method;
  /** OpenAPI path; `{id}` is the one path parameter any operation takes. */
  path: string;
  summary: string;
  tag: string;
  access: Access;
  /** Plan feature (model/plans.ts) without which the answer is 403 `feature_not_in_plan`. */
  feature: Feature | null;
  needs: Needs;
  limit: LimitGroup | null;
  usage: DexUsageKind | null;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** Success status and schema. */
  status: number;
  response: z.ZodType;
  /** Served by the AI proxy (proxy/routes.ts), listed here for the document only. */
  proxy?: true;
  /**
   * The handler reads the body itself (the key and billing endpoints keep their field-by-field
   * refusals: `missing_required_parameter`, the billing model's own plan message); `body` then
   * only documents it.
   */
  handlerParsesBody?: true;
}

const op = (o: Omit<Operation, "feature" | "needs" | "limit" | "usage" | "status"> & Partial<Pick<Operation, "feature" | "needs" | "limit" | "usage" | "status">>): Operation => ({
  feature: null,
  needs: null,
  limit: "read",
  usage: null,
  status: 200,
  ...o,
});

export const OPERATIONS: readonly Operation[] = [
  // Identity
  op({ id: "getIdentity", method: "GET", path: "/v1/identity", tag: "Identity", summary: "The account's identity: email address, phone number, Signal status, features.", access: { scope: "identity" }, response: s.identityResponse }),
  op({ id: "getIdentityStatus", method: "GET", path: "/v1/identity/status", tag: "Identity", summary: "Each provisioning step, and what the account holder must do, if anything.", access: { scope: "identity" }, response: s.identityStatusResponse }),
  op({ id: "getIdentityEmail", method: "GET", path: "/v1/identity/email", tag: "Identity", summary: "The mailbox address and whether it receives mail yet.", access: { scope: "identity" }, feature: "email", response: s.identityEmailResponse }),
  op({ id: "getIdentityPhone", method: "GET", path: "/v1/identity/phone", tag: "Identity", summary: "The phone number (receives SMS).", access: { scope: "identity" }, feature: "phone", response: s.identityPhoneResponse }),
  op({ id: "getIdentitySignal", method: "GET", path: "/v1/identity/signal", tag: "Identity", summary: "The Signal account's status and number.", access: { scope: "identity" }, feature: "signal", response: s.identitySignalResponse }),
  // Email
  op({ id: "sendEmail", method: "POST", path: "/v1/email/send", tag: "Email", summary: "Sends a mail from the identity's mailbox.", access: { scope: "email" }, feature: "email", needs: "mailbox", limit: "email_send", usage: "email_sent", body: s.sendEmailBody, response: s.sendEmailResponse }),
  op({ id: "listInbox", method: "GET", path: "/v1/email/inbox", tag: "Email", summary: "The inbox, newest first, a page at a time.", access: { scope: "email" }, feature: "email", needs: "mailbox", query: s.inboxQuery, response: s.inboxResponse }),
  op({ id: "getEmail", method: "GET", path: "/v1/email/messages/{id}", tag: "Email", summary: "One message with its text and HTML.", access: { scope: "email" }, feature: "email", needs: "mailbox", response: s.emailMessage }),
  op({ id: "deleteEmail", method: "DELETE", path: "/v1/email/messages/{id}", tag: "Email", summary: "Moves a message to the trash (Gmail deletes it after 30 days).", access: { scope: "email" }, feature: "email", needs: "mailbox", limit: "email_write", usage: "email_deleted", response: s.deletedEmailResponse }),
  // Signal
  op({ id: "sendSignal", method: "POST", path: "/v1/signal/send", tag: "Signal", summary: "Sends a Signal message from the identity's number.", access: { scope: "signal" }, feature: "signal", needs: "signal", limit: "signal_send", usage: "signal_sent", body: s.sendSignalBody, status: 201, response: s.sendSignalResponse }),
  op({ id: "listSignalMessages", method: "GET", path: "/v1/signal/messages", tag: "Signal", summary: "Messages received (kept 30 days), newest first.", access: { scope: "signal" }, feature: "signal", needs: "signal", query: s.pageQuery, response: s.signalMessagesResponse }),
  op({ id: "listSignalContacts", method: "GET", path: "/v1/signal/contacts", tag: "Signal", summary: "The Signal account's contacts.", access: { scope: "signal" }, feature: "signal", needs: "signal", response: s.signalContactsResponse }),
  // SMS: incoming texts belong to the identity's number, so the identity scope reads them.
  op({ id: "listSmsMessages", method: "GET", path: "/v1/sms/messages", tag: "SMS", summary: "SMS received on the identity's number (kept 30 days), newest first.", access: { scope: "identity" }, feature: "phone", needs: "phone", query: s.pageQuery, response: s.smsMessagesResponse }),
  // Calendar
  op({ id: "listCalendarEvents", method: "GET", path: "/v1/calendar/events", tag: "Calendar", summary: "Events of the mailbox user's primary calendar, by start time.", access: { scope: "calendar" }, feature: "calendar", needs: "mailbox", query: s.calendarListQuery, response: s.calendarEventsResponse }),
  op({ id: "createCalendarEvent", method: "POST", path: "/v1/calendar/events", tag: "Calendar", summary: "Creates an event.", access: { scope: "calendar" }, feature: "calendar", needs: "mailbox", limit: "calendar_write", usage: "calendar_write", body: s.calendarEventBody, status: 201, response: s.calendarEvent }),
  op({ id: "updateCalendarEvent", method: "PUT", path: "/v1/calendar/events/{id}", tag: "Calendar", summary: "Replaces an event.", access: { scope: "calendar" }, feature: "calendar", needs: "mailbox", limit: "calendar_write", usage: "calendar_write", body: s.calendarEventBody, response: s.calendarEvent }),
  op({ id: "deleteCalendarEvent", method: "DELETE", path: "/v1/calendar/events/{id}", tag: "Calendar", summary: "Deletes an event.", access: { scope: "calendar" }, feature: "calendar", needs: "mailbox", limit: "calendar_write", usage: "calendar_write", response: s.deletedEventResponse }),
  // Usage
  op({ id: "getUsage", method: "GET", path: "/v1/usage", tag: "Usage", summary: "The month's usage: tokens, cost, per model, and Dex API operations by kind.", access: { scope: "usage" }, query: s.monthQuery, response: s.usageResponse }),
  op({ id: "getUsageRemaining", method: "GET", path: "/v1/usage/remaining", tag: "Usage", summary: "Tokens left this month and when the month resets.", access: { scope: "usage" }, query: s.monthQuery, response: s.usageRemainingResponse }),
  // Keys and billing: API keys only.
  op({ id: "listApiKeys", method: "GET", path: "/v1/api-keys", tag: "Account", summary: "The account's API keys.", access: "api_key", limit: "account", response: s.keyListResponse }),
  op({ id: "createApiKey", method: "POST", path: "/v1/api-keys", tag: "Account", summary: "Creates an API key; its secret is shown once.", access: "api_key", limit: "account", body: s.createKeyBody, handlerParsesBody: true, status: 201, response: s.createdKeyResponse }),
  op({ id: "revokeApiKey", method: "DELETE", path: "/v1/api-keys/{id}", tag: "Account", summary: "Revokes an API key.", access: "api_key", limit: "account", response: s.revokedKeyResponse }),
  op({ id: "getSubscription", method: "GET", path: "/v1/billing/subscription", tag: "Account", summary: "The plan and subscription state.", access: "api_key", limit: "account", response: s.subscriptionResponse }),
  op({ id: "subscribe", method: "POST", path: "/v1/billing/subscribe", tag: "Account", summary: "A hosted checkout URL for a paid plan.", access: "api_key", limit: "account", body: s.subscribeBody, handlerParsesBody: true, response: s.urlResponse }),
  op({ id: "billingPortal", method: "POST", path: "/v1/billing/portal", tag: "Account", summary: "A billing portal URL.", access: "api_key", limit: "account", response: s.urlResponse }),
  // The document itself.
  op({ id: "getOpenApi", method: "GET", path: "/v1/openapi.json", tag: "Meta", summary: "This document (OpenAPI 3.1).", access: "none", limit: null, response: s.openApiDocumentResponse }),
  // The AI proxy (proxy/routes.ts): OpenAI's own shapes, metered by the ledger.
  ...(
    [
      ["createChatCompletion", "POST", "/v1/chat/completions", "Chat completions (OpenAI-compatible; streaming with `stream: true`)."],
      ["createCompletion", "POST", "/v1/completions", "Legacy completions (OpenAI-compatible)."],
      ["createEmbedding", "POST", "/v1/embeddings", "Embeddings (OpenAI-compatible)."],
      ["createSpeech", "POST", "/v1/audio/speech", "Text to speech (OpenAI-compatible; audio response)."],
      ["listModels", "GET", "/v1/models", "The models the plan may call."],
      ["retrieveModel", "GET", "/v1/models/{id}", "One model."],
    ] as const
  ).map(([id, method, path, summary]) =>
    op({ id, method, path, summary, tag: "AI", access: "api_key", limit: null, proxy: true, ...(method === "POST" ? { body: s.openAiBody } : {}), response: s.openAiResponse }),
  ),
];

export function operation(id: string): Operation {
  const found = OPERATIONS.find((o) => o.id === id);
  if (!found) throw new Error(`No Dex API operation ${id}.`);
  return found;
}

/** Whether an authenticated principal's scopes let it call the operation. */
export function allows(access: Access, principal: { via: "api_key" | "oauth"; scopes: readonly Scope[] }): boolean {
  if (access === "none") return true;
  if (access === "api_key") return principal.via === "api_key";
  return principal.via === "api_key" || principal.scopes.includes(access.scope);
}

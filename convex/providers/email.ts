// Email adapter over Resend's wire format: POST {EMAIL_BASE_URL}/emails with a Bearer key,
// JSON {from, to, subject, html, text, headers} -> {id}. Base URL from EMAIL_BASE_URL (default
// https://api.resend.com; the provider simulator in development and tests), key from
// EMAIL_API_KEY, sender from EMAIL_FROM.
import { env } from "../_generated/server";

const DEFAULT_BASE_URL = "https://api.resend.com";
const DEFAULT_FROM = "Poindexter <hello@poindexter.dev>";

export interface OutgoingMail {
  to: string;
  subject: string;
  html: string;
  text: string;
  headers?: Record<string, string>;
  /** Sent as Idempotency-Key: a retried send of the same outbox row is accepted only once. */
  idempotencyKey: string;
}

export type SendResult = { kind: "sent"; id: string } | { kind: "rejected"; status: number; error: string };

/** A failure worth retrying (network, 5xx, 429): thrown so the workpool retries the send. */
export class EmailUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EmailUnavailableError";
  }
}

function baseUrl(): string {
  return (env.EMAIL_BASE_URL || DEFAULT_BASE_URL).replace(/\/+$/, "");
}

export function senderAddress(): string {
  return env.EMAIL_FROM || DEFAULT_FROM;
}

/** The provider's error name and text, short enough for a row and an alert. */
async function errorOf(response: Response): Promise<{ name: string | null; text: string }> {
  const raw = await response.text().catch(() => "");
  let name: string | null = null;
  let message = raw;
  try {
    const body = JSON.parse(raw) as { message?: unknown; error?: unknown; name?: unknown };
    const m = body.message ?? body.error;
    if (typeof body.name === "string") name = body.name;
    if (typeof m === "string") message = name !== null && name !== m ? `${name}: ${m}` : m;
  } catch {
    // Not JSON: keep the text as it came.
  }
  return { name, text: `HTTP ${response.status}${message ? ` ${message.slice(0, 300)}` : ""}` };
}

/** Worth another attempt: the API is down or busy, or another attempt with our key is in flight. */
function isRetryable(status: number, name: string | null): boolean {
  return status === 429 || status >= 500 || (status === 409 && name === "concurrent_idempotent_requests");
}

/**
 * Sends one mail. Resolves `sent` or `rejected` (a permanent 4xx, e.g. 403 bad key or 422
 * validation: retrying cannot help); throws EmailUnavailableError for what may pass on a retry
 * (network errors, 5xx, 429).
 */
export async function sendEmail(mail: OutgoingMail): Promise<SendResult> {
  const key = env.EMAIL_API_KEY;
  // A deployment without a key cannot send anything; retrying will not change that.
  if (!key) return { kind: "rejected", status: 0, error: "EMAIL_API_KEY is not set on this deployment." };
  let response: Response;
  try {
    response = await fetch(`${baseUrl()}/emails`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${key}`,
        "content-type": "application/json",
        "idempotency-key": mail.idempotencyKey,
      },
      body: JSON.stringify({
        from: senderAddress(),
        to: [mail.to],
        subject: mail.subject,
        html: mail.html,
        text: mail.text,
        headers: mail.headers,
      }),
    });
  } catch (e) {
    // fetch's own message is just "fetch failed"; the cause says which (DNS, refused, timeout).
    const cause = (e as { cause?: unknown }).cause;
    const detail = cause instanceof Error ? `${(e as Error).message}: ${cause.message}` : (e as Error).message;
    throw new EmailUnavailableError(`The email API could not be reached (${detail}).`);
  }
  if (response.ok) {
    const body = (await response.json().catch(() => ({}))) as { id?: unknown };
    // Accepted is accepted: a retry could not get an id either (its Idempotency-Key replays this).
    return { kind: "sent", id: typeof body.id === "string" ? body.id : "" };
  }
  const error = await errorOf(response);
  if (isRetryable(response.status, error.name)) throw new EmailUnavailableError(error.text);
  return { kind: "rejected", status: response.status, error: error.text };
}

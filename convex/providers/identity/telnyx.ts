// Telnyx v2 adapter: search numbers, order one with `customer_reference` = the account id, find
// an existing order by that reference (so a retried step never orders a second number), assign
// the messaging profile, release. The identity issue (#10) wires it into provisioning steps
// (number ordered, messaging profile assigned) and deprovisioning (release).
// Base URL from TELNYX_BASE_URL (default https://api.telnyx.com; the simulator offline), key
// from TELNYX_API_KEY, profile from TELNYX_MESSAGING_PROFILE_ID.
import { env } from "../../_generated/server";
import { call, describe, ok, RetryableProviderError, trimSlash, type ProviderFailure, type ProviderOutcome, type WireResponse } from "./types";

const DEFAULT_BASE_URL = "https://api.telnyx.com";

export interface TelnyxConfig {
  apiKey: string;
  messagingProfileId: string | null;
  baseUrl: string;
  fetch?: typeof fetch;
}

export function telnyxConfigFromEnv(): TelnyxConfig | null {
  if (!env.TELNYX_API_KEY) return null;
  return { apiKey: env.TELNYX_API_KEY, messagingProfileId: env.TELNYX_MESSAGING_PROFILE_ID || null, baseUrl: env.TELNYX_BASE_URL || DEFAULT_BASE_URL };
}

/** Telnyx's `{errors: [{code, title, detail}]}` as the shared classification (throws when retryable). */
export function classifyTelnyx(response: WireResponse): ProviderFailure {
  const errors = (response.json as { errors?: { code?: unknown; title?: unknown; detail?: unknown }[] } | null)?.errors;
  const first = Array.isArray(errors) ? errors[0] : undefined;
  const code = first?.code !== undefined ? String(first.code) : null;
  const message = describe(response.status, [first?.title, first?.detail].filter((x) => typeof x === "string" && x).join(": ") || response.text);
  if (response.status >= 500 || response.status === 429) throw new RetryableProviderError("telnyx", message, response.status, code);
  // 85001: the searched number went to someone else before our order; search again.
  if (code === "85001") throw new RetryableProviderError("telnyx", message, response.status, code);
  if (response.status === 409) return { kind: "conflict", provider: "telnyx", status: 409, message };
  return { kind: "permanent", provider: "telnyx", status: response.status, code, message };
}

function request(config: TelnyxConfig, method: string, path: string, body?: unknown): Promise<WireResponse> {
  return call("telnyx", `${trimSlash(config.baseUrl)}/v2${path}`, {
    method,
    headers: { authorization: `Bearer ${config.apiKey}`, accept: "application/json", ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    fetch: config.fetch,
  });
}

const isOk = (status: number) => status >= 200 && status < 300;

/** Up to `limit` SMS-capable numbers that can be ordered now. */
export async function searchNumbers(config: TelnyxConfig, options: { countryCode?: string; limit?: number } = {}): Promise<ProviderOutcome<string[]>> {
  const q = new URLSearchParams({ "filter[country_code]": options.countryCode ?? "US", "filter[features][]": "sms", "filter[limit]": String(options.limit ?? 1) });
  const res = await request(config, "GET", `/available_phone_numbers?${q.toString()}`);
  if (!isOk(res.status)) return classifyTelnyx(res);
  const data = (res.json as { data?: { phone_number?: unknown }[] } | null)?.data ?? [];
  return ok(data.map((n) => n.phone_number).filter((p): p is string => typeof p === "string"));
}

export interface NumberOrder {
  orderId: string;
  status: string;
  customerReference: string | null;
  phoneNumber: string | null;
  /** The phone number's id (for release), once the order has one. */
  phoneNumberId: string | null;
}

function numberOrder(json: unknown): NumberOrder {
  const o = json as { id?: unknown; status?: unknown; customer_reference?: unknown; phone_numbers?: { id?: unknown; phone_number?: unknown }[] };
  const first = Array.isArray(o.phone_numbers) ? o.phone_numbers[0] : undefined;
  return {
    orderId: String(o.id ?? ""),
    status: String(o.status ?? "unknown"),
    customerReference: typeof o.customer_reference === "string" ? o.customer_reference : null,
    phoneNumber: typeof first?.phone_number === "string" ? first.phone_number : null,
    phoneNumberId: first?.id !== undefined && first.id !== null ? String(first.id) : null,
  };
}

/** Orders one number carrying `customer_reference` (the account id) and the messaging profile. */
export async function orderNumber(config: TelnyxConfig, input: { phoneNumber: string; customerReference: string }): Promise<ProviderOutcome<NumberOrder>> {
  const res = await request(config, "POST", "/number_orders", {
    phone_numbers: [{ phone_number: input.phoneNumber }],
    customer_reference: input.customerReference,
    ...(config.messagingProfileId ? { messaging_profile_id: config.messagingProfileId } : {}),
  });
  if (!isOk(res.status)) return classifyTelnyx(res);
  return ok(numberOrder((res.json as { data?: unknown } | null)?.data ?? {}));
}

/** The order made earlier for this reference (newest first), or null: the idempotency lookup. */
export async function findOrderByReference(config: TelnyxConfig, customerReference: string): Promise<ProviderOutcome<NumberOrder | null>> {
  const q = new URLSearchParams({ "filter[customer_reference]": customerReference });
  const res = await request(config, "GET", `/number_orders?${q.toString()}`);
  if (!isOk(res.status)) return classifyTelnyx(res);
  const data = (res.json as { data?: unknown[] } | null)?.data ?? [];
  // Checked here too: a server that ignored the filter must not hand us another account's number.
  const orders = data.map(numberOrder).filter((o) => o.customerReference === customerReference && o.status !== "failure");
  return ok(orders.at(-1) ?? null);
}

/**
 * Idempotent order: an existing order for the reference wins; else search and order one. Never
 * orders a second number for one account while it holds one. A completed order whose number was
 * released since (the account canceled, then subscribed again) no longer counts.
 */
export async function ensureNumber(config: TelnyxConfig, customerReference: string): Promise<ProviderOutcome<NumberOrder & { created: boolean }>> {
  const existing = await findOrderByReference(config, customerReference);
  if (existing.kind !== "ok") return existing;
  if (existing.value) {
    const order = existing.value;
    if (order.status !== "success" || order.phoneNumber === null) return ok({ ...order, created: false });
    const held = await findNumberId(config, order.phoneNumber);
    if (held.kind !== "ok") return held;
    if (held.value !== null) return ok({ ...order, phoneNumberId: order.phoneNumberId ?? held.value, created: false });
  }
  // One of a few candidates at random: concurrent provisionings searching at the same moment
  // would otherwise all race for the first number (85001, retried).
  const found = await searchNumbers(config, { limit: 5 });
  if (found.kind !== "ok") return found;
  if (found.value.length === 0) throw new RetryableProviderError("telnyx", "No SMS-capable number is available right now.");
  const pick = found.value[Math.floor(Math.random() * found.value.length)];
  const ordered = await orderNumber(config, { phoneNumber: pick, customerReference });
  if (ordered.kind !== "ok") return ordered;
  return ok({ ...ordered.value, created: true });
}

/** Assigns the messaging profile to a number (E.164) so inbound SMS reach our webhook. */
export async function assignMessagingProfile(config: TelnyxConfig, phoneNumber: string, messagingProfileId = config.messagingProfileId): Promise<ProviderOutcome<{ messagingProfileId: string }>> {
  if (!messagingProfileId) {
    return { kind: "permanent", provider: "telnyx", status: 0, code: "missing_profile", message: "TELNYX_MESSAGING_PROFILE_ID is not set on this deployment." };
  }
  const res = await request(config, "PATCH", `/messaging_phone_numbers/${encodeURIComponent(phoneNumber)}`, { messaging_profile_id: messagingProfileId });
  if (!isOk(res.status)) return classifyTelnyx(res);
  return ok({ messagingProfileId });
}

/** The active number's id for an E.164 number, or null. */
export async function findNumberId(config: TelnyxConfig, phoneNumber: string): Promise<ProviderOutcome<string | null>> {
  const res = await request(config, "GET", `/phone_numbers?${new URLSearchParams({ "filter[phone_number]": phoneNumber }).toString()}`);
  if (!isOk(res.status)) return classifyTelnyx(res);
  const data = (res.json as { data?: { id?: unknown; phone_number?: unknown }[] } | null)?.data ?? [];
  const match = data.find((n) => n.phone_number === phoneNumber);
  return ok(match?.id !== undefined && match.id !== null ? String(match.id) : null);
}

/** Releases a number by id. Already released (404) counts as released: `existed` is then false. */
export async function releaseNumber(config: TelnyxConfig, phoneNumberId: string): Promise<ProviderOutcome<{ existed: boolean }>> {
  const res = await request(config, "DELETE", `/phone_numbers/${encodeURIComponent(phoneNumberId)}`);
  if (isOk(res.status)) return ok({ existed: true });
  if (res.status === 404) return ok({ existed: false });
  return classifyTelnyx(res);
}

/**
 * Telnyx API v2 (numbers and messaging) and its ed25519-signed inbound webhooks.
 * Numbers come from the 555-01xx fictional range so nothing here can reach a real phone.
 * The signing key is derived from a fixed seed, so the public key the app verifies with
 * (TELNYX_PUBLIC_KEY) is the same on every run: see `telnyxPublicKey()`.
 */
import { createHash, createPrivateKey, createPublicKey, randomUUID, sign } from "node:crypto";
import { controlFormat } from "./control.ts";
import { SimHttpError, sendJson, type ProviderFormat, type Route, type RouteContext } from "./http.ts";
import { perStateStore, type SimulatorState, type WebhookDelivery } from "./state.ts";
import { deliverWebhook } from "./webhooks.ts";

export const telnyxFormat: ProviderFormat = {
  name: "telnyx",
  renderError(error) {
    const code = error.details.code ?? String(error.status === 401 ? 10009 : error.status === 404 ? 10005 : error.status === 422 ? 10015 : error.status >= 500 ? 10007 : 10015);
    const title = error.details.type ?? (error.status === 401 ? "Authentication failed" : error.status === 404 ? "Resource not found" : error.status >= 500 ? "Unexpected error" : "Invalid parameter");
    return {
      body: { errors: [{ code, title, detail: error.message || title, ...(error.details.param ? { source: { pointer: `/${error.details.param}` } } : {}) }] },
      headers: error.details.headers,
    };
  },
};

// PKCS#8 DER prefix for a raw 32-byte Ed25519 seed.
const ED25519_PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
const SIGNING_SEED = createHash("sha256").update("poindexter-simulator-telnyx-signing-key").digest();
const signingKey = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, SIGNING_SEED]), format: "der", type: "pkcs8" });

/** The base64 raw Ed25519 public key, in the form Telnyx shows in its portal. */
export function telnyxPublicKey(): string {
  const jwk = createPublicKey(signingKey).export({ format: "jwk" }) as { x: string };
  return Buffer.from(jwk.x, "base64url").toString("base64");
}

/** Headers for a webhook body: ed25519 over `${timestamp}|${body}`, base64. */
export function telnyxSignatureHeaders(body: string, timestamp = Math.floor(Date.now() / 1000)): Record<string, string> {
  const signature = sign(null, Buffer.from(`${timestamp}|${body}`), signingKey).toString("base64");
  return { "telnyx-signature-ed25519": signature, "telnyx-timestamp": String(timestamp) };
}

interface PhoneNumber {
  id: string;
  record_type: "phone_number";
  phone_number: string;
  status: "active" | "deleted";
  messaging_profile_id: string | null;
  connection_id: string | null;
  created_at: string;
  updated_at: string;
}

interface TelnyxStore {
  numbers: Map<string, PhoneNumber>;
  orders: Map<string, Record<string, unknown>>;
  messages: Record<string, unknown>[];
  nextNumber: number;
  nextId: bigint;
}


function emptyStore(): TelnyxStore {
  return { numbers: new Map(), orders: new Map(), messages: [], nextNumber: 0, nextId: 1_293_384_261_075_731_000n };
}

export const telnyxStore: (state: SimulatorState) => TelnyxStore = perStateStore(emptyStore);

/** +1 <area 201..> 555-0100..0199: the NANP range reserved for fiction. */
function candidateNumber(index: number): string {
  const area = 201 + Math.floor(index / 100);
  return `+1${area}5550${100 + (index % 100)}`;
}

function ownedNumbers(store: TelnyxStore): Set<string> {
  return new Set([...store.numbers.values()].filter((n) => n.status === "active").map((n) => n.phone_number));
}

/**
 * Numbers that cannot be ordered: the ones held now and the ones released in this state. Telnyx
 * re-offers a released number only after an aging period, far longer than any simulator run,
 * so a released number is never searched up or ordered again (an account that subscribes
 * again always gets a different number, deterministically).
 */
function unavailableNumbers(store: TelnyxStore): Set<string> {
  return new Set([...store.numbers.values()].map((n) => n.phone_number));
}

function authorize(ctx: RouteContext): void {
  const header = ctx.req.headers.authorization ?? "";
  const key = header.startsWith("Bearer ") ? header.slice(7).trim() : "";
  if (!key || key === "KEY_invalid") {
    throw new SimHttpError(401, "The API key or token you provided is invalid or missing.", { code: "10009", type: "Authentication failed" });
  }
}

function json(ctx: RouteContext): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(ctx.body.toString("utf8") || "{}");
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // handled below
  }
  throw new SimHttpError(400, "The request body is not valid JSON.", { code: "10015", type: "Bad Request" });
}

const isoNow = () => new Date().toISOString();

function availableNumbers(ctx: RouteContext): Promise<void> {
  authorize(ctx);
  const q = ctx.url.searchParams;
  const country = q.get("filter[country_code]") ?? "US";
  const limit = Math.min(100, Number(q.get("filter[limit]") ?? 10) || 10);
  if (country !== "US") {
    sendJson(ctx.res, 200, { data: [], metadata: { total_results: 0, best_effort_results: 0 } });
    return Promise.resolve();
  }
  const store = telnyxStore(ctx.state);
  const taken = unavailableNumbers(store);
  const data: Record<string, unknown>[] = [];
  for (let i = store.nextNumber; data.length < limit && i < store.nextNumber + 1000; i++) {
    const phone = candidateNumber(i);
    if (taken.has(phone)) continue;
    data.push({
      record_type: "available_phone_number",
      phone_number: phone,
      vanity_format: null,
      best_effort: false,
      quickship: true,
      reservable: true,
      region_information: [{ region_type: "country_code", region_name: "US" }],
      cost_information: { upfront_cost: "1.00", monthly_cost: "1.00", currency: "USD" },
      features: [{ name: "sms" }, { name: "mms" }, { name: "voice" }],
    });
  }
  sendJson(ctx.res, 200, { data, metadata: { total_results: data.length, best_effort_results: 0 } });
  return Promise.resolve();
}

async function orderNumbers(ctx: RouteContext): Promise<void> {
  authorize(ctx);
  const body = json(ctx);
  const store = telnyxStore(ctx.state);
  const requested = Array.isArray(body.phone_numbers) ? (body.phone_numbers as { phone_number?: unknown }[]) : [];
  if (requested.length === 0 || requested.some((n) => typeof n?.phone_number !== "string")) {
    throw new SimHttpError(422, "phone_numbers must be a non-empty array of {phone_number}.", { code: "10015", param: "phone_numbers" });
  }
  const taken = unavailableNumbers(store);
  for (const { phone_number } of requested as { phone_number: string }[]) {
    if (taken.has(phone_number)) throw new SimHttpError(422, `The number ${phone_number} is not available.`, { code: "85001", param: "phone_numbers" });
    if (!/^\+1\d{10}$/.test(phone_number)) throw new SimHttpError(422, `The number ${phone_number} is not a valid E.164 US number.`, { code: "10015", param: "phone_numbers" });
  }
  const profile = typeof body.messaging_profile_id === "string" ? body.messaging_profile_id : null;
  const at = isoNow();
  const orderNumbersOut = (requested as { phone_number: string }[]).map(({ phone_number }) => {
    const number: PhoneNumber = {
      id: String(store.nextId++),
      record_type: "phone_number",
      phone_number,
      status: "active",
      messaging_profile_id: profile,
      connection_id: typeof body.connection_id === "string" ? body.connection_id : null,
      created_at: at,
      updated_at: at,
    };
    store.numbers.set(number.id, number);
    store.nextNumber++;
    return { id: number.id, record_type: "number_order_phone_number", phone_number, status: "success", regulatory_requirements: [], requirements_met: true };
  });
  const order = {
    id: randomUUID(),
    record_type: "number_order",
    phone_numbers: orderNumbersOut,
    phone_numbers_count: orderNumbersOut.length,
    status: "success",
    messaging_profile_id: profile,
    connection_id: body.connection_id ?? null,
    customer_reference: body.customer_reference ?? null,
    requirements_met: true,
    created_at: at,
    updated_at: at,
  };
  store.orders.set(order.id, order);
  sendJson(ctx.res, 200, { data: order });
}

/** `GET /v2/number_orders[?filter[customer_reference]=&filter[status]=]`, oldest first (Telnyx pages them). */
async function listOrders(ctx: RouteContext): Promise<void> {
  authorize(ctx);
  const q = ctx.url.searchParams;
  const reference = q.get("filter[customer_reference]");
  const status = q.get("filter[status]");
  const data = [...telnyxStore(ctx.state).orders.values()].filter(
    (o) => (reference === null || o.customer_reference === reference) && (status === null || o.status === status),
  );
  sendJson(ctx.res, 200, { data, meta: { total_results: data.length, total_pages: 1, page_number: 1, page_size: Math.max(20, data.length) } });
}

async function getOrder(ctx: RouteContext): Promise<void> {
  authorize(ctx);
  const order = telnyxStore(ctx.state).orders.get(ctx.params[0]);
  if (!order) throw new SimHttpError(404, `Number order ${ctx.params[0]} not found.`, { code: "10005" });
  sendJson(ctx.res, 200, { data: order });
}

/** `PATCH /v2/messaging_phone_numbers/{e164} {messaging_profile_id}`: inbound SMS then carry that profile. */
async function assignMessaging(ctx: RouteContext): Promise<void> {
  authorize(ctx);
  const phone = decodeURIComponent(ctx.params[0]);
  const number = [...telnyxStore(ctx.state).numbers.values()].find((n) => n.phone_number === phone && n.status === "active");
  if (!number) throw new SimHttpError(404, `${phone} is not a number on this account.`, { code: "10005" });
  const body = json(ctx);
  if (body.messaging_profile_id !== null && typeof body.messaging_profile_id !== "string") {
    throw new SimHttpError(422, "messaging_profile_id must be a string or null.", { code: "10015", param: "messaging_profile_id" });
  }
  number.messaging_profile_id = (body.messaging_profile_id as string | null) ?? null;
  number.updated_at = isoNow();
  sendJson(ctx.res, 200, {
    data: {
      record_type: "messaging_phone_number",
      id: number.id,
      phone_number: number.phone_number,
      messaging_profile_id: number.messaging_profile_id,
      country_code: "US",
      type: "long-code",
      features: { sms: { domestic_two_way: true, international_inbound: true, international_outbound: true } },
      created_at: number.created_at,
      updated_at: number.updated_at,
    },
  });
}

function numberOr404(ctx: RouteContext): PhoneNumber {
  const number = telnyxStore(ctx.state).numbers.get(ctx.params[0]);
  if (!number || number.status === "deleted") throw new SimHttpError(404, `Phone number ${ctx.params[0]} not found.`, { code: "10005" });
  return number;
}

async function getNumber(ctx: RouteContext): Promise<void> {
  authorize(ctx);
  sendJson(ctx.res, 200, { data: numberOr404(ctx) });
}

async function listNumbers(ctx: RouteContext): Promise<void> {
  authorize(ctx);
  const filter = ctx.url.searchParams.get("filter[phone_number]");
  const data = [...telnyxStore(ctx.state).numbers.values()].filter((n) => n.status === "active" && (!filter || n.phone_number === filter));
  sendJson(ctx.res, 200, { data, meta: { total_results: data.length, total_pages: 1, page_number: 1, page_size: Math.max(20, data.length) } });
}

async function deleteNumber(ctx: RouteContext): Promise<void> {
  authorize(ctx);
  const number = numberOr404(ctx);
  number.status = "deleted";
  number.updated_at = isoNow();
  sendJson(ctx.res, 200, { data: number });
}

async function sendMessage(ctx: RouteContext): Promise<void> {
  authorize(ctx);
  const body = json(ctx);
  const store = telnyxStore(ctx.state);
  if (typeof body.to !== "string" || !/^\+\d{8,15}$/.test(body.to)) throw new SimHttpError(400, "Invalid 'to' address.", { code: "40310", param: "to" });
  if (typeof body.text !== "string" || body.text === "") throw new SimHttpError(400, "The 'text' parameter is required.", { code: "40005", param: "text" });
  if (typeof body.from !== "string" || !ownedNumbers(store).has(body.from)) {
    throw new SimHttpError(400, "Invalid 'from' address: the number is not on this account.", { code: "40305", param: "from" });
  }
  const at = isoNow();
  const gsm = /^[\x20-\x7e\n\r]*$/.test(body.text);
  const message = {
    record_type: "message",
    direction: "outbound",
    id: randomUUID(),
    type: "SMS",
    from: { phone_number: body.from, carrier: "Telnyx", line_type: "Wireless" },
    to: [{ phone_number: body.to, status: "queued", carrier: "Simulated", line_type: "Wireless" }],
    text: body.text,
    messaging_profile_id: (body.messaging_profile_id as string | undefined) ?? null,
    parts: Math.ceil(body.text.length / (gsm ? 160 : 70)),
    encoding: gsm ? "GSM-7" : "UCS-2",
    received_at: at,
    sent_at: null,
    completed_at: null,
    cost: null,
    errors: [],
  };
  store.messages.push(message);
  sendJson(ctx.res, 200, { data: message });
}

/**
 * An SMS arriving at one of the account's numbers: delivered to the app as the
 * `message.received` webhook. Also used by the Signal simulator for verification codes.
 */
export async function deliverInboundSms(state: SimulatorState, sms: { from: string; to: string; text: string }): Promise<WebhookDelivery> {
  const store = telnyxStore(state);
  const number = [...store.numbers.values()].find((n) => n.phone_number === sms.to && n.status === "active");
  if (!number) throw new SimHttpError(404, `${sms.to} is not a number on the simulated Telnyx account.`);
  const at = isoNow();
  const url = state.config.telnyx.webhookUrl;
  const event = {
    data: {
      event_type: "message.received",
      id: randomUUID(),
      occurred_at: at,
      record_type: "event",
      payload: {
        id: randomUUID(),
        record_type: "message",
        direction: "inbound",
        type: "SMS",
        from: { phone_number: sms.from, carrier: "Simulated", line_type: "Wireless" },
        to: [{ phone_number: sms.to, status: "webhook_delivered", carrier: "Telnyx", line_type: "Wireless" }],
        text: sms.text,
        messaging_profile_id: number.messaging_profile_id,
        received_at: at,
        parts: 1,
        encoding: "GSM-7",
        errors: [],
      },
    },
    meta: { attempt: 1, delivered_to: url ?? "" },
  };
  store.messages.push(event.data.payload);
  const body = JSON.stringify(event);
  return deliverWebhook(state, { provider: "telnyx", url, eventType: "message.received", eventId: event.data.id, body, sign: () => telnyxSignatureHeaders(body) });
}

async function inboundControl(ctx: RouteContext): Promise<void> {
  let body: { from?: unknown; to?: unknown; text?: unknown };
  try {
    body = JSON.parse(ctx.body.toString("utf8")) as typeof body;
  } catch {
    throw new SimHttpError(400, "body must be JSON {from, to, text}");
  }
  if (typeof body.from !== "string" || typeof body.to !== "string" || typeof body.text !== "string") {
    throw new SimHttpError(400, "body must be JSON {from, to, text}");
  }
  const delivery = await deliverInboundSms(ctx.state, { from: body.from, to: body.to, text: body.text });
  sendJson(ctx.res, 200, { delivery });
}

async function dumpStore(ctx: RouteContext): Promise<void> {
  const store = telnyxStore(ctx.state);
  sendJson(ctx.res, 200, { publicKey: telnyxPublicKey(), numbers: [...store.numbers.values()], orders: [...store.orders.values()], messages: store.messages });
}

const api = (method: Route["method"], path: RegExp, handle: Route["handle"]): Route => ({ method, path, provider: telnyxFormat, handle });

export const telnyxRoutes: Route[] = [
  api("GET", /^\/v2\/available_phone_numbers$/, availableNumbers),
  api("POST", /^\/v2\/number_orders$/, orderNumbers),
  api("GET", /^\/v2\/number_orders$/, listOrders),
  api("GET", /^\/v2\/number_orders\/([\w-]+)$/, getOrder),
  api("PATCH", /^\/v2\/messaging_phone_numbers\/([^/]+)$/, assignMessaging),
  api("GET", /^\/v2\/phone_numbers$/, listNumbers),
  api("GET", /^\/v2\/phone_numbers\/([\w+-]+)$/, getNumber),
  api("DELETE", /^\/v2\/phone_numbers\/([\w+-]+)$/, deleteNumber),
  api("POST", /^\/v2\/messages$/, sendMessage),
];

export const telnyxControlRoutes: Route[] = [
  { method: "GET", path: /^\/_sim\/telnyx$/, provider: controlFormat, handle: dumpStore },
  { method: "POST", path: /^\/_sim\/telnyx\/inbound$/, provider: controlFormat, handle: inboundControl },
];

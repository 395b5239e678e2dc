/**
 * Stripe's REST API (the subset the billing adapter uses), form-encoded like stripe-node sends
 * it: customers, Checkout Sessions (subscription mode), Billing Portal sessions, subscriptions,
 * invoices (metered items billed in arrears from meter events) and their preview, events, Billing
 * meters, meter events and meter event summaries. Completing a checkout, failing a renewal or
 * canceling happens through /_sim/stripe/* (or the hosted checkout and portal pages), and each
 * change is delivered to the app as a signed webhook (`Stripe-Signature`, see webhooks.ts).
 */
import { createHash, randomBytes } from "node:crypto";
import { controlFormat } from "./control.ts";
import { SimHttpError, sendJson, type ProviderFormat, type Route, type RouteContext } from "./http.ts";
import { perStateStore, type SimulatorState, type WebhookDelivery } from "./state.ts";
import { deliverWebhook, stripeSignature } from "./webhooks.ts";

/** The API version stamped on events (stripe-node 23's pinned version). */
export const STRIPE_API_VERSION = "2026-10-28.endive";
const DAY_S = 86_400;
const PERIOD_S = 30 * DAY_S;
/** Meter events may be at most this old (Stripe: 35 days) or 5 minutes in the future. */
const METER_MAX_AGE_S = 35 * DAY_S;
const METER_MAX_FUTURE_S = 300;

export const stripeFormat: ProviderFormat = {
  name: "stripe",
  retryHeader: "stripe-should-retry",
  renderError(error) {
    const type = error.details.type ?? (error.status === 429 ? "rate_limit_error" : error.status >= 500 ? "api_error" : "invalid_request_error");
    const message = error.message || (error.status >= 500 ? "An unknown error occurred on Stripe's end." : `Simulated Stripe error ${error.status}.`);
    return {
      body: {
        error: {
          type,
          message,
          ...(error.details.code ? { code: error.details.code, doc_url: `https://stripe.com/docs/error-codes/${error.details.code.replace(/_/g, "-")}` } : {}),
          ...(error.details.param ? { param: error.details.param } : {}),
        },
      },
      headers: error.details.headers,
    };
  },
};

/**
 * Decodes `application/x-www-form-urlencoded` with Stripe's bracket notation:
 * `line_items[0][price]=p&metadata[k]=v&expand[]=x` -> {line_items: [{price}], metadata: {k}, expand: [x]}.
 */
export function parseStripeForm(text: string): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [rawKey, value] of new URLSearchParams(text)) {
    const parts = rawKey.replace(/\]/g, "").split("[");
    let node: Record<string, unknown> | unknown[] = root;
    for (let i = 0; i < parts.length; i++) {
      const key = parts[i];
      const last = i === parts.length - 1;
      const nextIsIndex = !last && /^\d*$/.test(parts[i + 1]);
      if (Array.isArray(node)) {
        const index = key === "" ? node.length : Number(key);
        if (last) node[index] = value;
        else node = (node[index] ??= nextIsIndex ? [] : {}) as Record<string, unknown> | unknown[];
      } else {
        if (last) node[key] = value;
        else node = (node[key] ??= nextIsIndex ? [] : {}) as Record<string, unknown> | unknown[];
      }
    }
  }
  return root;
}

type StripeObject = Record<string, unknown> & { id: string };

interface StripeStore {
  customers: Map<string, StripeObject>;
  sessions: Map<string, StripeObject>;
  portals: Map<string, StripeObject>;
  subscriptions: Map<string, StripeObject>;
  invoices: Map<string, StripeObject>;
  events: Map<string, StripeObject>;
  meterEvents: Map<string, StripeObject>;
  meters: Map<string, StripeObject>;
  /** Charges of paid invoices (each with its PaymentIntent id), and refunds against them. */
  charges: Map<string, StripeObject>;
  refunds: Map<string, StripeObject>;
  /** Idempotency-Key -> the first successful response and a hash of the request that made it. */
  idempotency: Map<string, { requestHash: string; status: number; body: unknown }>;
}


function emptyStore(): StripeStore {
  return {
    customers: new Map(),
    sessions: new Map(),
    portals: new Map(),
    subscriptions: new Map(),
    invoices: new Map(),
    events: new Map(),
    meterEvents: new Map(),
    meters: new Map(),
    charges: new Map(),
    refunds: new Map(),
    idempotency: new Map(),
  };
}

export const stripeStore: (state: SimulatorState) => StripeStore = perStateStore(emptyStore);

function newId(prefix: string): string {
  return `${prefix}_${randomBytes(18).toString("base64url").replace(/[-_]/g, "x").slice(0, 24)}`;
}

const now = () => Math.floor(Date.now() / 1000);

function missing(kind: string, id: string, param = "id"): SimHttpError {
  return new SimHttpError(404, `No such ${kind}: '${id}'`, { type: "invalid_request_error", code: "resource_missing", param });
}

function invalid(message: string, param?: string, code = "parameter_invalid"): SimHttpError {
  return new SimHttpError(400, message, { type: "invalid_request_error", code, param: param ?? null });
}

function authorize(ctx: RouteContext): void {
  const header = ctx.req.headers.authorization ?? "";
  let key = "";
  if (header.startsWith("Bearer ")) key = header.slice(7).trim();
  else if (header.startsWith("Basic ")) key = Buffer.from(header.slice(6), "base64").toString("utf8").split(":")[0];
  if (!key) {
    throw new SimHttpError(401, "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').", { type: "invalid_request_error" });
  }
  if (!/^(sk|rk)_(test|live)_/.test(key) || key === "sk_test_invalid") {
    throw new SimHttpError(401, `Invalid API Key provided: ${key.slice(0, 8)}${"*".repeat(8)}${key.slice(-4)}`, { type: "invalid_request_error" });
  }
}

function form(ctx: RouteContext): Record<string, unknown> {
  return parseStripeForm(ctx.body.toString("utf8"));
}

function metadataOf(value: unknown): Record<string, string> {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, string>) : {};
}

function requireString(params: Record<string, unknown>, name: string): string {
  const value = params[name];
  if (typeof value !== "string" || value === "") throw invalid(`Missing required param: ${name}.`, name, "parameter_missing");
  return value;
}

function idempotencyKey(ctx: RouteContext): string | null {
  const key = ctx.req.headers["idempotency-key"];
  return ctx.req.method === "POST" && typeof key === "string" && key !== "" ? key : null;
}

function requestHash(ctx: RouteContext): string {
  return createHash("sha256").update(`${ctx.url.pathname}\n`).update(ctx.body).digest("hex");
}

function respond(ctx: RouteContext, body: unknown, status = 200): void {
  const key = idempotencyKey(ctx);
  if (key) stripeStore(ctx.state).idempotency.set(key, { requestHash: requestHash(ctx), status, body: structuredClone(body) });
  sendJson(ctx.res, status, body, { "request-id": ctx.requestId, "stripe-version": STRIPE_API_VERSION, ...(key ? { "idempotency-key": key } : {}) });
}

/**
 * Stripe replays the first response to a repeated Idempotency-Key (with `idempotent-replayed:
 * true`) and refuses the key with different parameters. Only successful responses are kept.
 */
function idempotent(handle: Route["handle"]): Route["handle"] {
  return async (ctx) => {
    const key = idempotencyKey(ctx);
    const cached = key ? stripeStore(ctx.state).idempotency.get(key) : undefined;
    if (!key || !cached) return handle(ctx);
    authorize(ctx);
    if (cached.requestHash !== requestHash(ctx)) {
      throw new SimHttpError(400, `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`, { type: "idempotency_error" });
    }
    sendJson(ctx.res, cached.status, cached.body, { "request-id": ctx.requestId, "stripe-version": STRIPE_API_VERSION, "idempotency-key": key, "idempotent-replayed": "true" });
  };
}

function getOr404(map: Map<string, StripeObject>, kind: string, id: string): StripeObject {
  const found = map.get(id);
  if (!found) throw missing(kind, id);
  return found;
}

// ---- Meters and metered prices ----

function newMeter(store: StripeStore, eventName: string, displayName: string): StripeObject {
  const meter: StripeObject = {
    id: newId("mtr"),
    object: "billing.meter",
    created: now(),
    customer_mapping: { event_payload_key: "stripe_customer_id", type: "by_id" },
    default_aggregation: { formula: "sum" },
    display_name: displayName,
    event_name: eventName,
    event_time_window: null,
    livemode: false,
    status: "active",
    status_transitions: { deactivated_at: null },
    updated: now(),
    value_settings: { event_payload_key: "value" },
  };
  store.meters.set(meter.id, meter);
  return meter;
}

function activeMeter(store: StripeStore, eventName: string): StripeObject | undefined {
  return [...store.meters.values()].find((m) => m.event_name === eventName && m.status === "active");
}

/** Every event name a metered price bills has a meter, made on first need (as one would in the Dashboard). */
function ensureMeters(state: SimulatorState): void {
  const store = stripeStore(state);
  for (const { eventName } of Object.values(state.config.stripe.meteredPrices)) {
    if (!activeMeter(store, eventName)) newMeter(store, eventName, eventName);
  }
}

/** The sum of a customer's meter event values for one event name with start <= timestamp < end. */
function meteredQuantity(store: StripeStore, eventName: string, customer: string, start: number, end: number): number {
  let total = 0;
  for (const event of store.meterEvents.values()) {
    const payload = event.payload as Record<string, string>;
    const at = event.timestamp as number;
    if (event.event_name === eventName && payload.stripe_customer_id === customer && at >= start && at < end) total += Number(payload.value);
  }
  return total;
}

/**
 * Cents for a metered quantity at a per-unit price in cents (`unit_amount_decimal`), rounded to
 * the cent half up, the way a usage line's amount is settled.
 */
export function usageAmountCents(quantity: number, unitAmountDecimal: string): number {
  const [whole, fraction = ""] = unitAmountDecimal.split(".");
  const scale = 10n ** BigInt(fraction.length);
  const scaled = BigInt(quantity) * BigInt(`${whole}${fraction}`);
  return Number((scaled * 2n + scale) / (scale * 2n));
}

/** A price object as Stripe embeds it in a subscription item: licensed or metered. */
function priceObject(state: SimulatorState, priceId: string): Record<string, unknown> {
  const metered = state.config.stripe.meteredPrices[priceId];
  if (metered) {
    const meter = activeMeter(stripeStore(state), metered.eventName);
    return {
      id: priceId,
      object: "price",
      currency: "usd",
      unit_amount: null,
      unit_amount_decimal: metered.unitAmountDecimal,
      recurring: { interval: "month", interval_count: 1, usage_type: "metered", meter: meter?.id ?? null },
    };
  }
  const amount = state.config.stripe.priceAmounts[priceId] ?? 0;
  return { id: priceId, object: "price", currency: "usd", unit_amount: amount, unit_amount_decimal: String(amount), recurring: { interval: "month", interval_count: 1, usage_type: "licensed" } };
}

// ---- REST API ----

async function createCustomer(ctx: RouteContext): Promise<void> {
  authorize(ctx);
  const params = form(ctx);
  const customer: StripeObject = {
    id: newId("cus"),
    object: "customer",
    created: now(),
    email: (params.email as string | undefined) ?? null,
    name: (params.name as string | undefined) ?? null,
    description: (params.description as string | undefined) ?? null,
    metadata: metadataOf(params.metadata),
    livemode: false,
  };
  stripeStore(ctx.state).customers.set(customer.id, customer);
  respond(ctx, customer);
}

async function retrieveCustomer(ctx: RouteContext): Promise<void> {
  authorize(ctx);
  respond(ctx, getOr404(stripeStore(ctx.state).customers, "customer", ctx.params[0]));
}

async function updateCustomer(ctx: RouteContext): Promise<void> {
  authorize(ctx);
  const customer = getOr404(stripeStore(ctx.state).customers, "customer", ctx.params[0]);
  const params = form(ctx);
  if (typeof params.email === "string") customer.email = params.email;
  if (typeof params.name === "string") customer.name = params.name;
  if (params.metadata) customer.metadata = { ...metadataOf(customer.metadata), ...metadataOf(params.metadata) };
  respond(ctx, customer);
}

function baseUrl(ctx: RouteContext): string {
  return `http://${ctx.req.headers.host ?? "127.0.0.1"}`;
}

async function createCheckoutSession(ctx: RouteContext): Promise<void> {
  authorize(ctx);
  const params = form(ctx);
  const store = stripeStore(ctx.state);
  const mode = requireString(params, "mode");
  if (mode !== "subscription" && mode !== "payment" && mode !== "setup") throw invalid(`Invalid mode: must be one of payment, setup, or subscription`, "mode");
  const successUrl = requireString(params, "success_url");
  const lineItems = Array.isArray(params.line_items) ? (params.line_items as Record<string, unknown>[]) : [];
  if (mode !== "setup" && lineItems.length === 0) throw invalid("You must provide at least one line item.", "line_items", "parameter_missing");
  lineItems.forEach((item, i) => {
    if (typeof item?.price !== "string") throw invalid(`Missing required param: line_items[${i}][price].`, `line_items[${i}][price]`, "parameter_missing");
  });
  const customer = typeof params.customer === "string" ? params.customer : null;
  if (customer && !store.customers.has(customer)) throw missing("customer", customer, "customer");
  const id = newId("cs_test");
  const amounts = ctx.state.config.stripe.priceAmounts;
  const session: StripeObject = {
    id,
    object: "checkout.session",
    mode,
    status: "open",
    payment_status: "unpaid",
    url: `${baseUrl(ctx)}/_sim/stripe/checkout/${id}`,
    success_url: successUrl,
    cancel_url: (params.cancel_url as string | undefined) ?? null,
    customer,
    customer_email: (params.customer_email as string | undefined) ?? null,
    client_reference_id: (params.client_reference_id as string | undefined) ?? null,
    metadata: metadataOf(params.metadata),
    subscription: null,
    invoice: null,
    currency: "usd",
    // Metered prices bill later, from usage: nothing at checkout.
    amount_total: lineItems.reduce((sum, item) => sum + (ctx.state.config.stripe.meteredPrices[item.price as string] ? 0 : (amounts[item.price as string] ?? 0) * Number(item.quantity ?? 1)), 0),
    created: now(),
    expires_at: now() + DAY_S,
    livemode: false,
    // Kept for completion; Stripe returns line items only when expanded.
    _lineItems: lineItems.map((item) => ({ price: item.price as string, quantity: item.quantity === undefined ? null : Number(item.quantity) })),
    _subscriptionData: params.subscription_data ?? null,
  };
  store.sessions.set(id, session);
  respond(ctx, publicView(session));
}

/** Strips the simulator's private bookkeeping (fields starting with `_`). */
function publicView(object: StripeObject): StripeObject {
  return Object.fromEntries(Object.entries(object).filter(([key]) => !key.startsWith("_"))) as StripeObject;
}

async function retrieveCheckoutSession(ctx: RouteContext): Promise<void> {
  authorize(ctx);
  respond(ctx, publicView(getOr404(stripeStore(ctx.state).sessions, "checkout.session", ctx.params[0])));
}

async function createPortalSession(ctx: RouteContext): Promise<void> {
  authorize(ctx);
  const params = form(ctx);
  const store = stripeStore(ctx.state);
  const customer = requireString(params, "customer");
  if (!store.customers.has(customer)) throw missing("customer", customer, "customer");
  const id = newId("bps");
  const portal: StripeObject = {
    id,
    object: "billing_portal.session",
    customer,
    return_url: (params.return_url as string | undefined) ?? null,
    url: `${baseUrl(ctx)}/_sim/stripe/portal/${id}`,
    created: now(),
    livemode: false,
  };
  store.portals.set(id, portal);
  respond(ctx, portal);
}

async function retrieveSubscription(ctx: RouteContext): Promise<void> {
  authorize(ctx);
  respond(ctx, getOr404(stripeStore(ctx.state).subscriptions, "subscription", ctx.params[0]));
}

async function updateSubscription(ctx: RouteContext): Promise<void> {
  authorize(ctx);
  const subscription = getOr404(stripeStore(ctx.state).subscriptions, "subscription", ctx.params[0]);
  const params = form(ctx);
  const previous: Record<string, unknown> = {};
  if (params.cancel_at_period_end !== undefined) {
    previous.cancel_at_period_end = subscription.cancel_at_period_end;
    subscription.cancel_at_period_end = params.cancel_at_period_end === "true";
  }
  if (params.metadata) {
    previous.metadata = subscription.metadata;
    subscription.metadata = { ...metadataOf(subscription.metadata), ...metadataOf(params.metadata) };
  }
  await emit(ctx.state, "customer.subscription.updated", subscription, previous);
  respond(ctx, subscription);
}

async function cancelSubscription(ctx: RouteContext): Promise<void> {
  authorize(ctx);
  const subscription = getOr404(stripeStore(ctx.state).subscriptions, "subscription", ctx.params[0]);
  await cancel(ctx.state, subscription);
  respond(ctx, subscription);
}

/** `expand[]` of a GET (stripe-node sends `expand[0]=payments`). */
function expanded(ctx: RouteContext): string[] {
  const expand = parseStripeForm(ctx.url.search.slice(1)).expand;
  return Array.isArray(expand) ? expand.filter((e): e is string => typeof e === "string") : [];
}

/**
 * An invoice; `payments` (an InvoicePayment list, what names the PaymentIntent since API
 * version 2025-03-31) only when expanded, as Stripe does.
 */
async function retrieveInvoice(ctx: RouteContext): Promise<void> {
  authorize(ctx);
  const invoice = getOr404(stripeStore(ctx.state).invoices, "invoice", ctx.params[0]);
  const body: Record<string, unknown> = publicView(invoice);
  if (expanded(ctx).includes("payments")) body.payments = invoicePayments(invoice);
  respond(ctx, body);
}

function invoicePayments(invoice: StripeObject): Record<string, unknown> {
  const payment = invoice._payment as { paymentIntent: string; charge: string; paidAt: number } | undefined;
  const data = payment
    ? [
        {
          id: `inpay_${payment.charge.slice(3)}`,
          object: "invoice_payment",
          amount_paid: invoice.amount_paid,
          amount_requested: invoice.amount_due,
          created: payment.paidAt,
          currency: invoice.currency,
          invoice: invoice.id,
          is_default: true,
          livemode: false,
          payment: { type: "payment_intent", payment_intent: payment.paymentIntent },
          status: "paid",
          status_transitions: { canceled_at: null, paid_at: payment.paidAt },
        },
      ]
    : [];
  return { object: "list", data, has_more: false, url: `/v1/invoice_payments?invoice=${invoice.id}` };
}

/** A paid invoice's charge and PaymentIntent (the card payment Checkout or the renewal made). */
function recordPayment(state: SimulatorState, invoice: StripeObject): void {
  const amount = invoice.amount_paid as number;
  const charge: StripeObject = {
    id: newId("ch"),
    object: "charge",
    amount,
    amount_captured: amount,
    amount_refunded: 0,
    captured: true,
    created: now(),
    currency: invoice.currency,
    customer: invoice.customer,
    livemode: false,
    metadata: {},
    paid: true,
    payment_intent: newId("pi"),
    refunded: false,
    status: "succeeded",
  };
  stripeStore(state).charges.set(charge.id, charge);
  invoice._payment = { paymentIntent: charge.payment_intent, charge: charge.id, paidAt: charge.created };
}

function dollars(cents: number): string {
  return `$${(cents / 100).toFixed(2)}`;
}

/**
 * POST /v1/refunds: against a charge or a PaymentIntent, `amount` (cents) defaulting to what is
 * left; more than the unrefunded amount, or a charge refunded in full, is a 400 as at Stripe.
 * Delivers `refund.created` and `charge.refunded`.
 */
async function createRefund(ctx: RouteContext): Promise<void> {
  authorize(ctx);
  const params = form(ctx);
  const store = stripeStore(ctx.state);
  let charge: StripeObject | undefined;
  if (typeof params.charge === "string") {
    charge = store.charges.get(params.charge);
    if (!charge) throw missing("charge", params.charge, "charge");
  } else if (typeof params.payment_intent === "string") {
    const intent = params.payment_intent;
    charge = [...store.charges.values()].find((c) => c.payment_intent === intent);
    if (!charge) throw missing("payment_intent", intent, "payment_intent");
  } else {
    throw invalid("One of the following params should be provided for this request: payment_intent or charge.", undefined, "parameter_missing");
  }
  const left = (charge.amount as number) - (charge.amount_refunded as number);
  if (left <= 0) throw invalid(`Charge ${charge.id} has already been refunded.`, undefined, "charge_already_refunded");
  const amount = params.amount === undefined ? left : Number(params.amount);
  if (!Number.isInteger(amount) || amount <= 0) throw invalid("Invalid positive integer", "amount");
  if (amount > left) {
    throw invalid(`Refund amount (${dollars(amount)}) is greater than unrefunded amount on charge (${dollars(left)})`, "amount");
  }
  const reason = typeof params.reason === "string" ? params.reason : null;
  if (reason !== null && !["duplicate", "fraudulent", "requested_by_customer"].includes(reason)) {
    throw invalid("Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer", "reason");
  }
  const refund: StripeObject = {
    id: newId("re"),
    object: "refund",
    amount,
    balance_transaction: null,
    charge: charge.id,
    created: now(),
    currency: charge.currency,
    destination_details: null,
    metadata: metadataOf(params.metadata),
    payment_intent: charge.payment_intent,
    reason,
    receipt_number: null,
    source_transfer_reversal: null,
    status: "succeeded",
    transfer_reversal: null,
  };
  store.refunds.set(refund.id, refund);
  const previous = { amount_refunded: charge.amount_refunded, refunded: charge.refunded };
  charge.amount_refunded = (charge.amount_refunded as number) + amount;
  charge.refunded = charge.amount_refunded === charge.amount;
  await emit(ctx.state, "refund.created", refund);
  await emit(ctx.state, "charge.refunded", charge, previous);
  respond(ctx, refund);
}

async function retrieveRefund(ctx: RouteContext): Promise<void> {
  authorize(ctx);
  respond(ctx, getOr404(stripeStore(ctx.state).refunds, "refund", ctx.params[0]));
}

async function retrieveEvent(ctx: RouteContext): Promise<void> {
  authorize(ctx);
  respond(ctx, getOr404(stripeStore(ctx.state).events, "event", ctx.params[0]));
}

async function createMeterEvent(ctx: RouteContext): Promise<void> {
  authorize(ctx);
  const params = form(ctx);
  const store = stripeStore(ctx.state);
  const eventName = requireString(params, "event_name");
  const payload = metadataOf(params.payload);
  if (!payload.stripe_customer_id) throw invalid("Missing required param: payload[stripe_customer_id].", "payload[stripe_customer_id]", "parameter_missing");
  if (payload.value === undefined || !/^\d+$/.test(payload.value)) throw invalid("payload[value] must be a whole number in a string.", "payload[value]");
  const timestamp = params.timestamp === undefined ? now() : Number(params.timestamp);
  if (!Number.isInteger(timestamp) || timestamp < now() - METER_MAX_AGE_S || timestamp > now() + METER_MAX_FUTURE_S) {
    throw invalid("Timestamp must be within the past 35 days and not more than 5 minutes in the future.", "timestamp", "timestamp_outside_valid_range");
  }
  const identifier = (params.identifier as string | undefined) ?? newId("mev");
  // Stripe enforces identifier uniqueness over a rolling window of at least 24 hours. (unconfirmed code)
  if (store.meterEvents.has(identifier)) {
    throw invalid(`An event with identifier ${identifier} already exists.`, "identifier", "resource_already_exists");
  }
  const event: StripeObject = {
    id: identifier,
    object: "billing.meter_event",
    created: now(),
    event_name: eventName,
    identifier,
    livemode: false,
    payload,
    timestamp,
  };
  store.meterEvents.set(identifier, event);
  const { id: _omit, ...wire } = event;
  void _omit;
  respond(ctx, wire);
}

async function createMeter(ctx: RouteContext): Promise<void> {
  authorize(ctx);
  const params = form(ctx);
  const store = stripeStore(ctx.state);
  const displayName = requireString(params, "display_name");
  const eventName = requireString(params, "event_name");
  const aggregation = metadataOf(params.default_aggregation);
  if (aggregation.formula !== "sum") throw invalid("The simulator's meters aggregate with default_aggregation[formula]=sum only.", "default_aggregation[formula]");
  if (activeMeter(store, eventName)) throw invalid(`An active meter with event_name ${eventName} already exists.`, "event_name", "resource_already_exists");
  respond(ctx, newMeter(store, eventName, displayName));
}

async function listMeters(ctx: RouteContext): Promise<void> {
  authorize(ctx);
  ensureMeters(ctx.state);
  const status = ctx.url.searchParams.get("status");
  const data = [...stripeStore(ctx.state).meters.values()].filter((m) => status === null || m.status === status);
  respond(ctx, { object: "list", data, has_more: false, url: "/v1/billing/meters" });
}

/** One summary over [start_time, end_time) (no value_grouping_window), as Stripe aggregates it. */
async function listMeterEventSummaries(ctx: RouteContext): Promise<void> {
  authorize(ctx);
  ensureMeters(ctx.state);
  const store = stripeStore(ctx.state);
  const meter = getOr404(store.meters, "billing.meter", ctx.params[0]);
  const query = ctx.url.searchParams;
  const customer = query.get("customer");
  if (!customer) throw invalid("Missing required param: customer.", "customer", "parameter_missing");
  if (!store.customers.has(customer)) throw missing("customer", customer, "customer");
  const times: number[] = [];
  for (const name of ["start_time", "end_time"]) {
    const raw = query.get(name);
    if (raw === null) throw invalid(`Missing required param: ${name}.`, name, "parameter_missing");
    const value = Number(raw);
    if (!Number.isInteger(value) || value % 60 !== 0) throw invalid(`${name} must be a Unix timestamp aligned with minute boundaries.`, name);
    times.push(value);
  }
  const [start, end] = times;
  if (end <= start) throw invalid("end_time must be after start_time.", "end_time");
  const summary = {
    id: `mtrusg_${createHash("sha256").update(`${meter.id}:${customer}:${start}:${end}`).digest("hex").slice(0, 24)}`,
    object: "billing.meter_event_summary",
    aggregated_value: meteredQuantity(store, meter.event_name as string, customer, start, end),
    end_time: end,
    livemode: false,
    meter: meter.id,
    start_time: start,
  };
  respond(ctx, { object: "list", data: [summary], has_more: false, url: `/v1/billing/meters/${meter.id}/event_summaries` });
}

/**
 * The invoice a subscription's next renewal would produce, now: the licensed items for the next
 * period and the metered items' usage so far in the current one. Nothing is stored.
 */
async function createInvoicePreview(ctx: RouteContext): Promise<void> {
  authorize(ctx);
  const params = form(ctx);
  const store = stripeStore(ctx.state);
  const customer = requireString(params, "customer");
  if (!store.customers.has(customer)) throw missing("customer", customer, "customer");
  const subscriptionId = typeof params.subscription === "string" ? params.subscription : null;
  const subscription = subscriptionId
    ? getOr404(store.subscriptions, "subscription", subscriptionId)
    : [...store.subscriptions.values()].find((s) => s.customer === customer && s.status !== "canceled");
  if (!subscription || subscription.customer !== customer) throw invalid(`No upcoming invoices for customer: ${customer}`, "customer", "invoice_upcoming_none");
  const item = (subscription.items as { data: Record<string, unknown>[] }).data[0];
  const current = { start: item.current_period_start as number, end: item.current_period_end as number };
  const lines = invoiceLines(ctx.state, subscription, { start: current.end, end: current.end + PERIOD_S }, current);
  respond(ctx, invoiceObject(subscription, `upcoming_${newId("in").slice(3)}`, "subscription_cycle", "draft", false, lines, current.end, current.end + PERIOD_S));
}

// ---- Lifecycle, events and webhooks ----

async function emit(state: SimulatorState, type: string, object: StripeObject, previousAttributes?: Record<string, unknown>): Promise<WebhookDelivery> {
  const event: StripeObject = {
    id: newId("evt"),
    object: "event",
    api_version: STRIPE_API_VERSION,
    created: now(),
    data: { object: structuredClone(publicView(object)), ...(previousAttributes && Object.keys(previousAttributes).length ? { previous_attributes: previousAttributes } : {}) },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
  };
  stripeStore(state).events.set(event.id, event);
  const body = JSON.stringify(event, null, 2);
  const { webhookUrl, webhookSecret } = state.config.stripe;
  return deliverWebhook(state, {
    provider: "stripe",
    url: webhookUrl,
    eventType: type,
    eventId: event.id,
    body,
    sign: () => ({ "stripe-signature": stripeSignature(body, webhookSecret), "user-agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)" }),
  });
}

type Period = { start: number; end: number };

/**
 * An invoice's lines: every licensed item for `licensed` (in advance) and, when `usage` is
 * given, every metered item's meter events in that period (in arrears), each rounded to the cent.
 */
function invoiceLines(state: SimulatorState, subscription: StripeObject, licensed: Period, usage: Period | null): Record<string, unknown>[] {
  const store = stripeStore(state);
  const lines: Record<string, unknown>[] = [];
  for (const item of (subscription.items as { data: Record<string, unknown>[] }).data) {
    const price = item.price as { id: string; unit_amount: number | null; unit_amount_decimal: string; recurring: { usage_type: string } };
    const metered = state.config.stripe.meteredPrices[price.id];
    if (price.recurring.usage_type === "metered" || metered) {
      if (usage === null) continue;
      const eventName = metered?.eventName ?? "";
      const quantity = meteredQuantity(store, eventName, subscription.customer as string, usage.start, usage.end);
      const unit = metered?.unitAmountDecimal ?? price.unit_amount_decimal;
      lines.push({ id: newId("il"), object: "line_item", amount: usageAmountCents(quantity, unit), currency: "usd", description: `${quantity} × ${eventName} (at $${unit} cents / unit)`, quantity, period: usage, pricing: { type: "price_details", price_details: { price: price.id }, unit_amount_decimal: unit }, subscription: subscription.id });
    } else {
      const quantity = Number(item.quantity ?? 1);
      lines.push({ id: newId("il"), object: "line_item", amount: (price.unit_amount ?? 0) * quantity, currency: "usd", description: `${quantity} × ${price.id}`, quantity, period: licensed, pricing: { type: "price_details", price_details: { price: price.id }, unit_amount_decimal: price.unit_amount_decimal }, subscription: subscription.id });
    }
  }
  return lines;
}

function invoiceObject(subscription: StripeObject, id: string, reason: string, status: string, paid: boolean, lines: Record<string, unknown>[], periodStart: number, periodEnd: number): StripeObject {
  const amount = lines.reduce((sum, line) => sum + (line.amount as number), 0);
  return {
    id,
    object: "invoice",
    customer: subscription.customer,
    status,
    billing_reason: reason,
    currency: "usd",
    subtotal: amount,
    total: amount,
    amount_due: amount,
    amount_paid: paid ? amount : 0,
    amount_remaining: paid ? 0 : amount,
    attempt_count: 1,
    lines: { object: "list", data: lines, has_more: false, url: `/v1/invoices/${id}/lines` },
    period_start: periodStart,
    period_end: periodEnd,
    parent: { type: "subscription_details", subscription_details: { subscription: subscription.id, metadata: subscription.metadata } },
    created: now(),
    livemode: false,
  };
}

/** An invoice of the subscription's current period; `usage`: the period whose metered usage it bills. */
function newInvoice(state: SimulatorState, subscription: StripeObject, reason: string, paid: boolean, usage: Period | null = null): StripeObject {
  const item = (subscription.items as { data: Record<string, unknown>[] }).data[0];
  const period = { start: item.current_period_start as number, end: item.current_period_end as number };
  const lines = invoiceLines(state, subscription, period, usage);
  const invoice = invoiceObject(subscription, newId("in"), reason, paid ? "paid" : "open", paid, lines, period.start, period.end);
  if (paid) recordPayment(state, invoice);
  stripeStore(state).invoices.set(invoice.id, invoice);
  subscription.latest_invoice = invoice.id;
  return invoice;
}

/** Checkout paid: customer (if new), subscription, invoice, then the events in Stripe's order. */
export async function completeCheckout(state: SimulatorState, sessionId: string): Promise<{ session: StripeObject; subscription: StripeObject | null; deliveries: WebhookDelivery[] }> {
  const store = stripeStore(state);
  const session = store.sessions.get(sessionId);
  if (!session) throw new SimHttpError(404, `No such checkout.session: '${sessionId}'`);
  if (session.status !== "open") throw new SimHttpError(409, `Checkout session ${sessionId} is ${session.status as string}, not open.`);
  const deliveries: WebhookDelivery[] = [];
  let customerId = session.customer as string | null;
  if (!customerId) {
    const customer: StripeObject = { id: newId("cus"), object: "customer", created: now(), email: session.customer_email, name: null, description: null, metadata: {}, livemode: false };
    store.customers.set(customer.id, customer);
    customerId = customer.id;
    deliveries.push(await emit(state, "customer.created", customer));
  }
  session.customer = customerId;
  let subscription: StripeObject | null = null;
  if (session.mode === "subscription") {
    const items = session._lineItems as { price: string; quantity: number | null }[];
    ensureMeters(state);
    const data = metadataOf(session._subscriptionData) as unknown as { trial_period_days?: string; metadata?: Record<string, string> };
    const trialDays = data.trial_period_days ? Number(data.trial_period_days) : 0;
    const start = now();
    const periodEnd = start + (trialDays > 0 ? trialDays * DAY_S : PERIOD_S);
    const id = newId("sub");
    subscription = {
      id,
      object: "subscription",
      customer: customerId,
      status: trialDays > 0 ? "trialing" : "active",
      cancel_at_period_end: false,
      canceled_at: null,
      ended_at: null,
      trial_end: trialDays > 0 ? periodEnd : null,
      created: start,
      start_date: start,
      metadata: data.metadata ?? {},
      latest_invoice: null,
      livemode: false,
      items: {
        object: "list",
        has_more: false,
        url: `/v1/subscription_items?subscription=${id}`,
        data: items.map((item) => {
          const price = priceObject(state, item.price);
          const metered = (price.recurring as { usage_type: string }).usage_type === "metered";
          return {
            id: newId("si"),
            object: "subscription_item",
            subscription: id,
            // Metered items have no quantity: the meter supplies it.
            ...(metered ? {} : { quantity: item.quantity ?? 1 }),
            current_period_start: start,
            current_period_end: periodEnd,
            price,
          };
        }),
      },
    };
    store.subscriptions.set(id, subscription);
    const invoice = newInvoice(state, subscription, "subscription_create", true);
    session.subscription = id;
    session.invoice = invoice.id;
    session.status = "complete";
    session.payment_status = trialDays > 0 ? "no_payment_required" : "paid";
    deliveries.push(await emit(state, "customer.subscription.created", subscription));
    deliveries.push(await emit(state, "checkout.session.completed", session));
    deliveries.push(await emit(state, "invoice.paid", invoice));
  } else {
    session.status = "complete";
    session.payment_status = "paid";
    deliveries.push(await emit(state, "checkout.session.completed", session));
  }
  return { session: publicView(session), subscription, deliveries };
}

async function cancel(state: SimulatorState, subscription: StripeObject): Promise<WebhookDelivery> {
  if (subscription.status === "canceled") throw invalid(`No such subscription: '${subscription.id}' is already canceled.`, "id");
  subscription.status = "canceled";
  subscription.canceled_at = now();
  subscription.ended_at = now();
  return emit(state, "customer.subscription.deleted", subscription);
}

/** A renewal whose payment fails: open invoice, subscription past_due. */
async function failPayment(state: SimulatorState, subscription: StripeObject): Promise<WebhookDelivery[]> {
  const invoice = newInvoice(state, subscription, "subscription_cycle", false);
  const previous = { status: subscription.status };
  subscription.status = "past_due";
  return [await emit(state, "invoice.payment_failed", invoice), await emit(state, "customer.subscription.updated", subscription, previous)];
}

/**
 * The period ends: a subscription set to cancel at period end is deleted; any other renews, the
 * period advancing and a new invoice paid.
 */
async function renew(state: SimulatorState, subscription: StripeObject): Promise<WebhookDelivery[]> {
  if (subscription.status === "canceled") throw invalid(`Subscription ${subscription.id} is canceled.`, "id");
  if (subscription.cancel_at_period_end) return [await cancel(state, subscription)];
  const previous = { status: subscription.status };
  const first = (subscription.items as { data: Record<string, unknown>[] }).data[0];
  const closing = { start: first.current_period_start as number, end: first.current_period_end as number };
  for (const item of (subscription.items as { data: Record<string, unknown>[] }).data) {
    item.current_period_start = item.current_period_end;
    item.current_period_end = (item.current_period_end as number) + PERIOD_S;
  }
  subscription.status = "active";
  // The next period in advance, the closing period's metered usage in arrears.
  const invoice = newInvoice(state, subscription, "subscription_cycle", true, closing);
  return [await emit(state, "invoice.paid", invoice), await emit(state, "customer.subscription.updated", subscription, previous)];
}

/** What the portal's cancel button does by default: keep access until the period ends. */
async function cancelAtPeriodEnd(state: SimulatorState, subscription: StripeObject): Promise<WebhookDelivery> {
  if (subscription.status === "canceled") throw invalid(`Subscription ${subscription.id} is canceled.`, "id");
  const previous = { cancel_at_period_end: subscription.cancel_at_period_end };
  subscription.cancel_at_period_end = true;
  subscription.cancel_at = (subscription.items as { data: Record<string, unknown>[] }).data[0].current_period_end;
  return emit(state, "customer.subscription.updated", subscription, previous);
}

// ---- Control endpoints and hosted pages ----

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(ctx: RouteContext, title: string, body: string): void {
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}button{font-size:1rem;padding:.5rem 1rem}</style>
</head><body><p><small>Stripe (simulated)</small></p><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
  ctx.res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
  ctx.res.end(html);
}

async function checkoutPage(ctx: RouteContext): Promise<void> {
  const session = getOr404(stripeStore(ctx.state).sessions, "checkout.session", ctx.params[0]);
  if (session.status !== "open") return page(ctx, "This checkout is complete", `<p>Status: ${escapeHtml(String(session.status))}</p>`);
  const items = (session._lineItems as { price: string; quantity: number | null }[])
    .map((i) => `<li>${escapeHtml(i.price)} ${i.quantity === null ? "(metered: billed by usage)" : `&times; ${i.quantity}`}</li>`)
    .join("");
  page(
    ctx,
    "Subscribe",
    `<ul>${items}</ul><p>${escapeHtml(String(session.customer_email ?? session.customer ?? ""))}</p>
<form method="post" action="/_sim/stripe/checkout/${escapeHtml(session.id)}/complete?redirect=1"><button type="submit">Pay and subscribe</button></form>
${session.cancel_url ? `<p><a href="${escapeHtml(String(session.cancel_url))}">Cancel</a></p>` : ""}`,
  );
}

async function completeCheckoutControl(ctx: RouteContext): Promise<void> {
  const result = await completeCheckout(ctx.state, ctx.params[0]);
  if (ctx.url.searchParams.get("redirect") === "1") {
    const target = String((stripeStore(ctx.state).sessions.get(ctx.params[0]) as StripeObject).success_url).replace("{CHECKOUT_SESSION_ID}", ctx.params[0]);
    ctx.res.writeHead(303, { location: target });
    ctx.res.end();
    return;
  }
  sendJson(ctx.res, 200, result);
}

async function portalPage(ctx: RouteContext): Promise<void> {
  const store = stripeStore(ctx.state);
  const portal = getOr404(store.portals, "billing_portal.session", ctx.params[0]);
  const subscriptions = [...store.subscriptions.values()].filter((s) => s.customer === portal.customer);
  const rows = subscriptions
    .map((s) => {
      const action =
        s.status === "canceled" || s.cancel_at_period_end
          ? ""
          : `<form method="post" action="/_sim/stripe/subscriptions/${escapeHtml(s.id)}/cancel_at_period_end?redirect=${encodeURIComponent(`/_sim/stripe/portal/${portal.id}`)}"><button type="submit">Cancel subscription</button></form>`;
      return `<li>${escapeHtml(s.id)}: ${escapeHtml(String(s.status))}${s.cancel_at_period_end && s.status !== "canceled" ? " (cancels at period end)" : ""}${action}</li>`;
    })
    .join("");
  page(ctx, "Manage billing", `<ul>${rows || "<li>No subscriptions</li>"}</ul>${portal.return_url ? `<p><a href="${escapeHtml(String(portal.return_url))}">Return</a></p>` : ""}`);
}

function subscriptionControl(action: (state: SimulatorState, s: StripeObject) => Promise<WebhookDelivery | WebhookDelivery[]>) {
  return async (ctx: RouteContext): Promise<void> => {
    const subscription = getOr404(stripeStore(ctx.state).subscriptions, "subscription", ctx.params[0]);
    const deliveries = [await action(ctx.state, subscription)].flat();
    const redirect = ctx.url.searchParams.get("redirect");
    if (redirect?.startsWith("/_sim/")) {
      ctx.res.writeHead(303, { location: redirect });
      ctx.res.end();
      return;
    }
    sendJson(ctx.res, 200, { subscription, deliveries });
  };
}

async function dumpStore(ctx: RouteContext): Promise<void> {
  const store = stripeStore(ctx.state);
  const list = (map: Map<string, StripeObject>) => [...map.values()].map(publicView);
  sendJson(ctx.res, 200, {
    customers: list(store.customers),
    checkoutSessions: list(store.sessions),
    subscriptions: list(store.subscriptions),
    invoices: list(store.invoices),
    meterEvents: [...store.meterEvents.values()].map(({ id: _id, ...rest }) => rest),
    meters: list(store.meters),
    charges: list(store.charges),
    refunds: list(store.refunds),
    events: list(store.events),
  });
}

const api = (method: Route["method"], path: RegExp, handle: Route["handle"]): Route => ({
  method,
  path,
  provider: stripeFormat,
  handle: method === "POST" ? idempotent(handle) : handle,
});
const control = (method: Route["method"], path: RegExp, handle: Route["handle"]): Route => ({ method, path, provider: controlFormat, handle });

export const stripeRoutes: Route[] = [
  api("POST", /^\/v1\/customers$/, createCustomer),
  api("GET", /^\/v1\/customers\/(cus_[\w]+)$/, retrieveCustomer),
  api("POST", /^\/v1\/customers\/(cus_[\w]+)$/, updateCustomer),
  api("POST", /^\/v1\/checkout\/sessions$/, createCheckoutSession),
  api("GET", /^\/v1\/checkout\/sessions\/(cs_[\w]+)$/, retrieveCheckoutSession),
  api("POST", /^\/v1\/billing_portal\/sessions$/, createPortalSession),
  api("GET", /^\/v1\/subscriptions\/(sub_[\w]+)$/, retrieveSubscription),
  api("POST", /^\/v1\/subscriptions\/(sub_[\w]+)$/, updateSubscription),
  api("DELETE", /^\/v1\/subscriptions\/(sub_[\w]+)$/, cancelSubscription),
  api("GET", /^\/v1\/invoices\/(in_[\w]+)$/, retrieveInvoice),
  api("POST", /^\/v1\/refunds$/, createRefund),
  api("GET", /^\/v1\/refunds\/(re_[\w]+)$/, retrieveRefund),
  api("GET", /^\/v1\/events\/(evt_[\w]+)$/, retrieveEvent),
  api("POST", /^\/v1\/billing\/meter_events$/, createMeterEvent),
  api("POST", /^\/v1\/billing\/meters$/, createMeter),
  api("GET", /^\/v1\/billing\/meters$/, listMeters),
  api("GET", /^\/v1\/billing\/meters\/(mtr_[\w]+)\/event_summaries$/, listMeterEventSummaries),
  api("POST", /^\/v1\/invoices\/create_preview$/, createInvoicePreview),
];

export const stripeControlRoutes: Route[] = [
  control("GET", /^\/_sim\/stripe$/, dumpStore),
  control("GET", /^\/_sim\/stripe\/checkout\/(cs_[\w]+)$/, checkoutPage),
  control("POST", /^\/_sim\/stripe\/checkout\/(cs_[\w]+)\/complete$/, completeCheckoutControl),
  control("GET", /^\/_sim\/stripe\/portal\/(bps_[\w]+)$/, portalPage),
  control("POST", /^\/_sim\/stripe\/subscriptions\/(sub_[\w]+)\/cancel$/, subscriptionControl(cancel)),
  control("POST", /^\/_sim\/stripe\/subscriptions\/(sub_[\w]+)\/cancel_at_period_end$/, subscriptionControl(cancelAtPeriodEnd)),
  control("POST", /^\/_sim\/stripe\/subscriptions\/(sub_[\w]+)\/payment_failed$/, subscriptionControl(failPayment)),
  control("POST", /^\/_sim\/stripe\/subscriptions\/(sub_[\w]+)\/renew$/, subscriptionControl(renew)),
];

/**
 * Polar's API (snake_case JSON, Bearer organization token): checkouts, customer sessions and
 * usage events ingestion, shaped to pass @polar-sh/sdk 0.49's response validation. Completing a
 * checkout or changing a subscription happens through /_sim/polar/* (or the hosted checkout page)
 * and is delivered as Standard Webhooks that `validateEvent` from `@polar-sh/sdk/webhooks` accepts.
 */
import { createHmac, randomBytes, randomUUID } from "node:crypto";
import { controlFormat } from "./control.ts";
import { SimHttpError, sendJson, type ProviderFormat, type Route, type RouteContext } from "./http.ts";
import { perStateStore, type SimulatorState, type WebhookDelivery } from "./state.ts";
import { deliverWebhook } from "./webhooks.ts";

const ORGANIZATION_ID = "6f1e8c9a-0000-4000-8000-00000000d3c0";
const PERIOD_MS = 30 * 86_400_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Polar's error bodies: `{error, detail}`, and FastAPI's `{detail: [{loc, msg, type}]}` for 422. */
export const polarFormat: ProviderFormat = {
  name: "polar",
  renderError(error) {
    if (error.status === 422) {
      return { body: { detail: [{ loc: ["body", error.details.param ?? "body"], msg: error.message, type: error.details.code ?? "value_error" }] }, headers: error.details.headers };
    }
    const name = error.details.type ?? (error.status === 401 ? "Unauthorized" : error.status === 403 ? "NotPermitted" : error.status === 404 ? "ResourceNotFound" : "InternalServerError");
    return { body: { error: name, detail: error.message || name }, headers: error.details.headers };
  },
};

/** Standard Webhooks: `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` keyed by the secret's UTF-8 bytes. */
export function polarSignatureHeaders(body: string, secret: string, id = `msg_${randomBytes(12).toString("hex")}`, timestamp = Math.floor(Date.now() / 1000)): Record<string, string> {
  const signature = createHmac("sha256", Buffer.from(secret, "utf8")).update(`${id}.${timestamp}.${body}`).digest("base64");
  return { "webhook-id": id, "webhook-timestamp": String(timestamp), "webhook-signature": `v1,${signature}` };
}

type Json = Record<string, unknown>;

interface PolarStore {
  products: Map<string, Json>;
  checkouts: Map<string, Json>;
  customers: Map<string, Json>;
  subscriptions: Map<string, Json>;
  orders: Map<string, Json>;
  /** Refunds made through POST /v1/refunds/ (the control route's full refunds make none). */
  refunds: Map<string, Json>;
  sessions: Map<string, Json>;
  /** Ingested usage events, keyed by external_id when given (duplicates are counted, not stored). */
  events: Json[];
  externalIds: Set<string>;
}


function emptyStore(): PolarStore {
  return {
    products: new Map(),
    checkouts: new Map(),
    customers: new Map(),
    subscriptions: new Map(),
    orders: new Map(),
    refunds: new Map(),
    sessions: new Map(),
    events: [],
    externalIds: new Set(),
  };
}

export const polarStore: (state: SimulatorState) => PolarStore = perStateStore(emptyStore);

const iso = (ms = Date.now()) => new Date(ms).toISOString();

function authorize(ctx: RouteContext): void {
  const header = ctx.req.headers.authorization ?? "";
  const token = header.startsWith("Bearer ") ? header.slice(7).trim() : "";
  if (!token || token === "polar_oat_invalid") {
    throw new SimHttpError(401, "The access token provided is expired, revoked, malformed, or invalid for other reasons.", { type: "invalid_token" });
  }
}

function json(ctx: RouteContext): Json {
  try {
    const value: unknown = JSON.parse(ctx.body.toString("utf8") || "{}");
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Json;
  } catch {
    // handled below
  }
  throw new SimHttpError(422, "JSON decode error", { code: "json_invalid" });
}

function metadataOf(value: unknown): Json {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Json) : {};
}

/**
 * Products are created on first use from their id (Polar ids are UUIDs): a monthly subscription
 * product priced from the `polar.priceAmounts` knob (cents), 0 when unknown.
 */
function product(state: SimulatorState, id: string): Json {
  const store = polarStore(state);
  const existing = store.products.get(id);
  if (existing) return existing;
  const created = iso();
  const price = {
    created_at: created,
    modified_at: null,
    id: randomUUID(),
    source: "catalog",
    amount_type: "fixed",
    price_currency: "usd",
    tax_behavior: null,
    is_archived: false,
    product_id: id,
    price_amount: state.config.polar.priceAmounts[id] ?? 0,
    type: "recurring",
    recurring_interval: "month",
  };
  const made: Json = {
    id,
    created_at: created,
    modified_at: null,
    trial_interval: null,
    trial_interval_count: null,
    name: `Plan ${id.slice(0, 8)}`,
    description: null,
    visibility: "public",
    recurring_interval: "month",
    recurring_interval_count: 1,
    meter_interval: null,
    meter_interval_count: null,
    is_recurring: true,
    is_archived: false,
    organization_id: ORGANIZATION_ID,
    metadata: {},
    prices: [price],
    benefits: [],
    medias: [],
    attached_custom_fields: [],
  };
  store.products.set(id, made);
  return made;
}

function baseUrl(ctx: RouteContext): string {
  return `http://${ctx.req.headers.host ?? "127.0.0.1"}`;
}

async function createCheckout(ctx: RouteContext): Promise<void> {
  authorize(ctx);
  const body = json(ctx);
  const productIds = body.products;
  if (!Array.isArray(productIds) || productIds.length === 0 || !productIds.every((p) => typeof p === "string" && UUID.test(p))) {
    throw new SimHttpError(422, "products must be a non-empty list of product UUIDs", { param: "products", code: "uuid_parsing" });
  }
  const successUrl = typeof body.success_url === "string" ? body.success_url : null;
  const products = (productIds as string[]).map((id) => product(ctx.state, id));
  const selected = products[0];
  const price = (selected.prices as Json[])[0];
  const amount = price.price_amount as number;
  const id = randomUUID();
  const clientSecret = `polar_c_${randomBytes(24).toString("base64url")}`;
  const checkout: Json = {
    id,
    created_at: iso(),
    modified_at: null,
    payment_processor: "stripe",
    status: "open",
    client_secret: clientSecret,
    url: `${baseUrl(ctx)}/_sim/polar/checkout/${clientSecret}`,
    expires_at: iso(Date.now() + 3_600_000),
    success_url: successUrl ?? `${baseUrl(ctx)}/_sim/polar/checkout/${clientSecret}/confirmation`,
    return_url: typeof body.return_url === "string" ? body.return_url : null,
    embed_origin: null,
    amount,
    discount_amount: 0,
    net_amount: amount,
    tax_amount: null,
    tax_behavior: null,
    total_amount: amount,
    currency: "usd",
    allow_trial: null,
    active_trial_interval: null,
    active_trial_interval_count: null,
    trial_end: null,
    organization_id: ORGANIZATION_ID,
    product_id: selected.id,
    product_price_id: price.id,
    discount_id: null,
    allow_discount_codes: true,
    require_billing_address: false,
    is_discount_applicable: true,
    is_free_product_price: amount === 0,
    is_payment_required: amount > 0,
    is_payment_setup_required: true,
    is_payment_form_required: true,
    customer_id: null,
    is_business_customer: false,
    customer_name: null,
    customer_email: typeof body.customer_email === "string" ? body.customer_email : null,
    customer_ip_address: null,
    customer_billing_name: null,
    customer_billing_address: null,
    customer_tax_id: null,
    payment_processor_metadata: {},
    billing_address_fields: { country: "required", state: "disabled", city: "disabled", postal_code: "disabled", line1: "disabled", line2: "disabled" },
    trial_interval: null,
    trial_interval_count: null,
    metadata: metadataOf(body.metadata),
    external_customer_id: typeof body.external_customer_id === "string" ? body.external_customer_id : null,
    products,
    product: selected,
    product_price: price,
    prices: Object.fromEntries(products.map((p) => [p.id, p.prices])),
    discount: null,
    subscription_id: null,
    attached_custom_fields: [],
    customer_metadata: metadataOf(body.customer_metadata),
  };
  polarStore(ctx.state).checkouts.set(id, checkout);
  sendJson(ctx.res, 201, checkout);
}

async function getCheckout(ctx: RouteContext): Promise<void> {
  authorize(ctx);
  const checkout = polarStore(ctx.state).checkouts.get(ctx.params[0]);
  if (!checkout) throw new SimHttpError(404, "Not found");
  sendJson(ctx.res, 200, checkout);
}

function customerByExternalId(store: PolarStore, externalId: string): Json | undefined {
  return [...store.customers.values()].find((c) => c.external_id === externalId && c.deleted_at === null);
}

async function createCustomerSession(ctx: RouteContext): Promise<void> {
  authorize(ctx);
  const body = json(ctx);
  const store = polarStore(ctx.state);
  const customer =
    typeof body.external_customer_id === "string"
      ? customerByExternalId(store, body.external_customer_id)
      : typeof body.customer_id === "string"
        ? store.customers.get(body.customer_id)
        : undefined;
  if (body.external_customer_id === undefined && body.customer_id === undefined) {
    throw new SimHttpError(422, "customer_id or external_customer_id is required", { param: "customer_id", code: "missing" });
  }
  if (!customer) throw new SimHttpError(404, "Customer not found.");
  const token = `polar_cst_${randomBytes(24).toString("base64url")}`;
  const session: Json = {
    created_at: iso(),
    modified_at: null,
    id: randomUUID(),
    token,
    expires_at: iso(Date.now() + 3_600_000),
    return_url: typeof body.return_url === "string" ? body.return_url : null,
    customer_portal_url: `${baseUrl(ctx)}/_sim/polar/portal?customer_session_token=${token}`,
    customer_id: customer.id,
    customer,
  };
  store.sessions.set(token, session);
  sendJson(ctx.res, 201, session);
}

async function ingestEvents(ctx: RouteContext): Promise<void> {
  authorize(ctx);
  const body = json(ctx);
  const store = polarStore(ctx.state);
  if (!Array.isArray(body.events)) throw new SimHttpError(422, "events must be a list", { param: "events", code: "list_type" });
  const events = body.events as Json[];
  events.forEach((event, i) => {
    if (typeof event?.name !== "string" || event.name === "") throw new SimHttpError(422, `events[${i}].name is required`, { param: "events", code: "missing" });
    if (typeof event.external_customer_id !== "string" && typeof event.customer_id !== "string") {
      throw new SimHttpError(422, `events[${i}] needs customer_id or external_customer_id`, { param: "events", code: "missing" });
    }
  });
  let inserted = 0;
  let duplicates = 0;
  for (const event of events) {
    const externalId = typeof event.external_id === "string" ? event.external_id : null;
    if (externalId && store.externalIds.has(externalId)) {
      duplicates++;
      continue;
    }
    if (externalId) store.externalIds.add(externalId);
    store.events.push({ ...event, id: randomUUID(), timestamp: event.timestamp ?? iso(), metadata: metadataOf(event.metadata) });
    inserted++;
  }
  sendJson(ctx.res, 200, { inserted, duplicates });
}

// ---- Lifecycle and webhooks ----

async function emit(state: SimulatorState, type: string, data: Json): Promise<WebhookDelivery> {
  const body = JSON.stringify({ type, timestamp: iso(), data });
  const { webhookUrl, webhookSecret } = state.config.polar;
  // Standard Webhooks keep the message id across retries; only the timestamp and signature change.
  const messageId = `msg_${randomBytes(12).toString("hex")}`;
  return deliverWebhook(state, { provider: "polar", url: webhookUrl, eventType: type, eventId: messageId, body, sign: () => polarSignatureHeaders(body, webhookSecret, messageId) });
}

function subscriptionCustomer(customer: Json): Json {
  return { ...customer };
}

/** A paid order for one period of a subscription (what Polar bills and announces as order.paid). */
function newOrder(state: SimulatorState, subscription: Json, reason: "subscription_create" | "subscription_cycle"): Json {
  const store = polarStore(state);
  const product = subscription.product as Json;
  const price = (subscription.prices as Json[])[0];
  const amount = price.price_amount as number;
  const customer = store.customers.get(subscription.customer_id as string) as Json;
  const order: Json = {
    id: randomUUID(),
    created_at: iso(),
    modified_at: null,
    status: "paid",
    paid: true,
    subtotal_amount: amount,
    discount_amount: 0,
    net_amount: amount,
    tax_amount: 0,
    total_amount: amount,
    applied_balance_amount: 0,
    due_amount: 0,
    refunded_amount: 0,
    refunded_tax_amount: 0,
    currency: "usd",
    billing_reason: reason,
    billing_name: null,
    billing_address: customer.billing_address,
    invoice_number: `SIM-${String(store.orders.size + 1).padStart(4, "0")}`,
    is_invoice_generated: true,
    receipt_number: null,
    customer_id: customer.id,
    product_id: product.id,
    discount_id: null,
    subscription_id: subscription.id,
    checkout_id: reason === "subscription_create" ? subscription.checkout_id : null,
    metadata: subscription.metadata,
    platform_fee_amount: 0,
    platform_fee_currency: null,
    customer,
    product,
    discount: null,
    subscription,
    items: [{ created_at: iso(), modified_at: null, id: randomUUID(), label: String(product.name), amount, tax_amount: 0, proration: false, product_price_id: price.id }],
    description: String(product.name),
    refundable_amount: amount,
    refundable_tax_amount: 0,
  };
  store.orders.set(order.id as string, order);
  return order;
}

export async function completePolarCheckout(state: SimulatorState, checkoutId: string): Promise<{ checkout: Json; subscription: Json; deliveries: WebhookDelivery[] }> {
  const store = polarStore(state);
  const checkout = store.checkouts.get(checkoutId);
  if (!checkout) throw new SimHttpError(404, `No checkout ${checkoutId}`);
  if (checkout.status !== "open") throw new SimHttpError(409, `Checkout ${checkoutId} is ${String(checkout.status)}, not open.`);
  const deliveries: WebhookDelivery[] = [];
  const externalId = checkout.external_customer_id as string | null;
  let customer = externalId ? customerByExternalId(store, externalId) : undefined;
  if (!customer) {
    customer = {
      id: randomUUID(),
      created_at: iso(),
      modified_at: null,
      metadata: metadataOf(checkout.customer_metadata),
      external_id: externalId,
      email: (checkout.customer_email as string | null) ?? `customer-${randomBytes(3).toString("hex")}@example.com`,
      email_verified: false,
      type: "individual",
      name: null,
      billing_name: null,
      billing_address: { country: "US" },
      tax_id: null,
      organization_id: ORGANIZATION_ID,
      deleted_at: null,
      avatar_url: null,
    };
    store.customers.set(customer.id as string, customer);
  }
  const productObject = checkout.product as Json;
  const price = checkout.product_price as Json;
  const now = Date.now();
  const subscription: Json = {
    created_at: iso(now),
    modified_at: null,
    id: randomUUID(),
    amount: price.price_amount,
    currency: "usd",
    recurring_interval: "month",
    recurring_interval_count: 1,
    status: "active",
    current_period_start: iso(now),
    current_period_end: iso(now + PERIOD_MS),
    current_meter_period_start: null,
    current_meter_period_end: null,
    trial_start: null,
    trial_end: null,
    cancel_at_period_end: false,
    canceled_at: null,
    started_at: iso(now),
    ends_at: null,
    ended_at: null,
    pause_at_period_end: false,
    paused_at: null,
    resumes_at: null,
    customer_id: customer.id,
    product_id: productObject.id,
    discount_id: null,
    checkout_id: checkout.id,
    customer_cancellation_reason: null,
    customer_cancellation_comment: null,
    metadata: metadataOf(checkout.metadata),
    customer: subscriptionCustomer(customer),
    product: productObject,
    discount: null,
    prices: [price],
    meters: [],
    pending_update: null,
  };
  store.subscriptions.set(subscription.id as string, subscription);
  Object.assign(checkout, { status: "succeeded", customer_id: customer.id, subscription_id: subscription.id, modified_at: iso() });
  const order = newOrder(state, subscription, "subscription_create");
  deliveries.push(await emit(state, "subscription.created", subscription));
  deliveries.push(await emit(state, "subscription.active", subscription));
  deliveries.push(await emit(state, "order.created", order));
  deliveries.push(await emit(state, "order.paid", order));
  return { checkout, subscription, deliveries };
}

function subscriptionOr404(ctx: RouteContext): Json {
  const subscription = polarStore(ctx.state).subscriptions.get(ctx.params[0]);
  if (!subscription) throw new SimHttpError(404, `No subscription ${ctx.params[0]}`);
  return subscription;
}

/** Customer cancels: active until the period ends (`subscription.canceled`, cancel_at_period_end). */
async function cancel(state: SimulatorState, s: Json): Promise<WebhookDelivery[]> {
  Object.assign(s, { cancel_at_period_end: true, canceled_at: iso(), ends_at: s.current_period_end, modified_at: iso() });
  return [await emit(state, "subscription.canceled", s), await emit(state, "subscription.updated", s)];
}

async function uncancel(state: SimulatorState, s: Json): Promise<WebhookDelivery[]> {
  Object.assign(s, { cancel_at_period_end: false, canceled_at: null, ends_at: null, modified_at: iso() });
  return [await emit(state, "subscription.uncanceled", s), await emit(state, "subscription.updated", s)];
}

/** Access ends now (`subscription.revoked`, status canceled). */
async function revoke(state: SimulatorState, s: Json): Promise<WebhookDelivery[]> {
  Object.assign(s, { status: "canceled", canceled_at: s.canceled_at ?? iso(), ended_at: iso(), ends_at: iso(), modified_at: iso() });
  return [await emit(state, "subscription.revoked", s), await emit(state, "subscription.updated", s)];
}

async function pastDue(state: SimulatorState, s: Json): Promise<WebhookDelivery[]> {
  Object.assign(s, { status: "past_due", past_due_at: iso(), modified_at: iso() });
  return [await emit(state, "subscription.past_due", s), await emit(state, "subscription.updated", s)];
}

/** A new period is paid: order.created and order.paid, then subscription.updated with the period advanced. */
async function renew(state: SimulatorState, s: Json): Promise<WebhookDelivery[]> {
  const start = Date.parse(String(s.current_period_end));
  Object.assign(s, { status: "active", past_due_at: null, current_period_start: iso(start), current_period_end: iso(start + PERIOD_MS), modified_at: iso() });
  const order = newOrder(state, s, "subscription_cycle");
  return [await emit(state, "order.created", order), await emit(state, "order.paid", order), await emit(state, "subscription.updated", s)];
}

async function refundOrder(ctx: RouteContext): Promise<void> {
  const order = polarStore(ctx.state).orders.get(ctx.params[0]);
  if (!order) throw new SimHttpError(404, `No order ${ctx.params[0]}`);
  if (order.status === "refunded") throw new SimHttpError(409, `Order ${ctx.params[0]} is already refunded.`);
  Object.assign(order, { status: "refunded", refunded_amount: order.total_amount, refundable_amount: 0, modified_at: iso() });
  const deliveries = [await emit(ctx.state, "order.refunded", order), await emit(ctx.state, "order.updated", order)];
  sendJson(ctx.res, 200, { order, deliveries });
}

const REFUND_REASONS = ["duplicate", "fraudulent", "customer_request", "service_disruption", "satisfaction_guarantee", "dispute_prevention", "other"];

/**
 * POST /v1/refunds/: part or all of a paid order (`amount` in cents, required). An order with
 * nothing left is 403 RefundedAlready (the SDK's typed error); more than what is left is refused.
 * The order's refunded/refundable amounts and status follow; delivers refund.created,
 * order.refunded and order.updated.
 */
async function createRefund(ctx: RouteContext): Promise<void> {
  authorize(ctx);
  const body = json(ctx);
  const store = polarStore(ctx.state);
  const orderId = body.order_id;
  if (typeof orderId !== "string" || !UUID.test(orderId)) throw new SimHttpError(422, "Input should be a valid UUID", { param: "order_id", code: "uuid_parsing" });
  if (typeof body.reason !== "string" || !REFUND_REASONS.includes(body.reason)) {
    throw new SimHttpError(422, `Input should be ${REFUND_REASONS.map((r) => `'${r}'`).join(", ")}`, { param: "reason", code: "enum" });
  }
  const amount = body.amount;
  if (typeof amount !== "number" || !Number.isInteger(amount) || amount <= 0) {
    throw new SimHttpError(422, "Input should be greater than 0", { param: "amount", code: "greater_than" });
  }
  const order = store.orders.get(orderId);
  if (!order) throw new SimHttpError(404, "Order not found");
  const left = order.refundable_amount as number;
  if (left <= 0) {
    sendJson(ctx.res, 403, { error: "RefundedAlready", detail: "Order is already fully refunded." });
    return;
  }
  if (amount > left) {
    sendJson(ctx.res, 400, { error: "RefundAmountTooHigh", detail: `Refund amount ${amount} exceeds the refundable amount ${left}.` });
    return;
  }
  const refund: Json = {
    created_at: iso(),
    modified_at: null,
    id: randomUUID(),
    metadata: metadataOf(body.metadata),
    status: "succeeded",
    reason: body.reason,
    amount,
    tax_amount: 0,
    currency: order.currency,
    organization_id: ORGANIZATION_ID,
    order_id: orderId,
    subscription_id: order.subscription_id ?? null,
    customer_id: order.customer_id,
    revoke_benefits: body.revoke_benefits === true,
    dispute: null,
  };
  store.refunds.set(refund.id as string, refund);
  const refunded = (order.refunded_amount as number) + amount;
  Object.assign(order, {
    refunded_amount: refunded,
    refundable_amount: left - amount,
    status: left - amount === 0 ? "refunded" : "partially_refunded",
    modified_at: iso(),
  });
  await emit(ctx.state, "refund.created", refund);
  await emit(ctx.state, "order.refunded", order);
  await emit(ctx.state, "order.updated", order);
  sendJson(ctx.res, 201, refund);
}

/** GET /v1/refunds/?order_id=&page=&limit=: newest first, Polar's list envelope. */
async function listRefunds(ctx: RouteContext): Promise<void> {
  authorize(ctx);
  const query = ctx.url.searchParams;
  const orderIds = query.getAll("order_id");
  const limit = Math.min(100, Math.max(1, Number(query.get("limit") ?? 10) || 10));
  const page = Math.max(1, Number(query.get("page") ?? 1) || 1);
  const all = [...polarStore(ctx.state).refunds.values()]
    .filter((r) => orderIds.length === 0 || orderIds.includes(r.order_id as string))
    .reverse();
  sendJson(ctx.res, 200, {
    items: all.slice((page - 1) * limit, page * limit),
    pagination: { total_count: all.length, max_page: Math.max(1, Math.ceil(all.length / limit)) },
  });
}

function subscriptionControl(action: (state: SimulatorState, s: Json) => Promise<WebhookDelivery[]>) {
  return async (ctx: RouteContext): Promise<void> => {
    const subscription = subscriptionOr404(ctx);
    const deliveries = await action(ctx.state, subscription);
    sendJson(ctx.res, 200, { subscription, deliveries });
  };
}

/**
 * DELETE /v1/subscriptions/{id} (the API's revoke): access ends now, with the same webhooks as the
 * control route; a subscription already ended answers 403 AlreadyCanceledSubscription, as Polar does.
 */
async function revokeSubscription(ctx: RouteContext): Promise<void> {
  authorize(ctx);
  const subscription = subscriptionOr404(ctx);
  if (subscription.status === "canceled") {
    sendJson(ctx.res, 403, { error: "AlreadyCanceledSubscription", detail: "This subscription is already canceled or will be at the end of the period." });
    return;
  }
  await revoke(ctx.state, subscription);
  sendJson(ctx.res, 200, subscription);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function checkoutBySecret(ctx: RouteContext): Json {
  const checkout = [...polarStore(ctx.state).checkouts.values()].find((c) => c.client_secret === ctx.params[0]);
  if (!checkout) throw new SimHttpError(404, "Checkout not found");
  return checkout;
}

async function checkoutPage(ctx: RouteContext): Promise<void> {
  const checkout = checkoutBySecret(ctx);
  const open = checkout.status === "open";
  ctx.res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
  ctx.res.end(`<!doctype html><html><head><meta charset="utf-8"><title>Checkout</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}button{font-size:1rem;padding:.5rem 1rem}</style></head>
<body><p><small>Polar (simulated)</small></p><h1>${escapeHtml(String((checkout.product as Json).name))}</h1>
<p>${((checkout.total_amount as number) / 100).toFixed(2)} USD / month</p>
${open ? `<form method="post" action="/_sim/polar/checkouts/${escapeHtml(String(checkout.id))}/complete?redirect=1"><button type="submit">Subscribe</button></form>` : `<p>Status: ${escapeHtml(String(checkout.status))}</p>`}
</body></html>`);
}

async function completeControl(ctx: RouteContext): Promise<void> {
  const result = await completePolarCheckout(ctx.state, ctx.params[0]);
  if (ctx.url.searchParams.get("redirect") === "1") {
    ctx.res.writeHead(303, { location: String(result.checkout.success_url).replace("{CHECKOUT_ID}", String(result.checkout.id)) });
    ctx.res.end();
    return;
  }
  sendJson(ctx.res, 200, result);
}

async function portalPage(ctx: RouteContext): Promise<void> {
  const store = polarStore(ctx.state);
  const session = store.sessions.get(ctx.url.searchParams.get("customer_session_token") ?? "");
  if (!session || Date.parse(String(session.expires_at)) < Date.now()) throw new SimHttpError(401, "This portal link has expired; open the portal again from the app.");
  const rows = [...store.subscriptions.values()]
    .filter((s) => s.customer_id === session.customer_id)
    .map((s) => {
      const action =
        s.status === "canceled" || s.cancel_at_period_end
          ? ""
          : `<form method="post" action="/_sim/polar/subscriptions/${escapeHtml(String(s.id))}/cancel"><button type="submit">Cancel subscription</button></form>`;
      return `<li>${escapeHtml(String((s.product as Json).name))}: ${escapeHtml(String(s.status))}${s.cancel_at_period_end ? " (ends at period end)" : ""}${action}</li>`;
    })
    .join("");
  ctx.res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
  ctx.res.end(`<!doctype html><html><head><meta charset="utf-8"><title>Customer portal</title></head>
<body style="font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto"><p><small>Polar (simulated)</small></p><h1>Your subscriptions</h1>
<ul>${rows || "<li>None</li>"}</ul>${session.return_url ? `<p><a href="${escapeHtml(String(session.return_url))}">Return</a></p>` : ""}</body></html>`);
}

async function dumpStore(ctx: RouteContext): Promise<void> {
  const store = polarStore(ctx.state);
  sendJson(ctx.res, 200, {
    checkouts: [...store.checkouts.values()],
    customers: [...store.customers.values()],
    subscriptions: [...store.subscriptions.values()],
    orders: [...store.orders.values()],
    refunds: [...store.refunds.values()],
    events: store.events,
  });
}

const api = (method: Route["method"], path: RegExp, handle: Route["handle"]): Route => ({ method, path, provider: polarFormat, handle });
const control = (method: Route["method"], path: RegExp, handle: Route["handle"]): Route => ({ method, path, provider: controlFormat, handle });

// Polar's paths end with a slash; the SDK sends them that way, curl users often do not.
export const polarRoutes: Route[] = [
  api("POST", /^\/v1\/checkouts\/?$/, createCheckout),
  api("GET", /^\/v1\/checkouts\/([0-9a-f-]{36})\/?$/, getCheckout),
  api("POST", /^\/v1\/customer-sessions\/?$/, createCustomerSession),
  api("POST", /^\/v1\/events\/ingest\/?$/, ingestEvents),
  api("POST", /^\/v1\/refunds\/?$/, createRefund),
  api("GET", /^\/v1\/refunds\/?$/, listRefunds),
  api("DELETE", /^\/v1\/subscriptions\/([0-9a-f-]{36})\/?$/, revokeSubscription),
];

export const polarControlRoutes: Route[] = [
  control("GET", /^\/_sim\/polar$/, dumpStore),
  control("GET", /^\/_sim\/polar\/checkout\/(polar_c_[\w-]+)$/, checkoutPage),
  control("GET", /^\/_sim\/polar\/portal$/, portalPage),
  control("POST", /^\/_sim\/polar\/checkouts\/([0-9a-f-]{36})\/complete$/, completeControl),
  control("POST", /^\/_sim\/polar\/subscriptions\/([0-9a-f-]{36})\/cancel$/, subscriptionControl(cancel)),
  control("POST", /^\/_sim\/polar\/subscriptions\/([0-9a-f-]{36})\/uncancel$/, subscriptionControl(uncancel)),
  control("POST", /^\/_sim\/polar\/subscriptions\/([0-9a-f-]{36})\/revoke$/, subscriptionControl(revoke)),
  control("POST", /^\/_sim\/polar\/subscriptions\/([0-9a-f-]{36})\/past_due$/, subscriptionControl(pastDue)),
  control("POST", /^\/_sim\/polar\/subscriptions\/([0-9a-f-]{36})\/renew$/, subscriptionControl(renew)),
  control("POST", /^\/_sim\/polar\/orders\/([0-9a-f-]{36})\/refund$/, refundOrder),
];

// The simulated Stripe API driven by stripe-node, with webhooks received and verified the way the
// app's /webhooks/stripe handler will verify them.
import http from "node:http";
import type { AddressInfo } from "node:net";
import Stripe from "stripe";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startSimulator, type RunningSimulator } from "./server.ts";
import { parseStripeForm, usageAmountCents } from "./stripe.ts";

const SECRET = "whsec_test_secret";
let sim: RunningSimulator;
let stripe: Stripe;
let receiver: http.Server;
let received: { signature: string; body: string }[] = [];
let receiverStatus = 200;

beforeAll(async () => {
  receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({ signature: String(req.headers["stripe-signature"]), body: Buffer.concat(chunks).toString("utf8") });
      res.writeHead(receiverStatus).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  sim = await startSimulator({ port: 0, useEnv: false });
  stripe = new Stripe("sk_test_simulator", {
    host: "127.0.0.1",
    port: sim.port,
    protocol: "http",
    httpClient: Stripe.createFetchHttpClient(),
    maxNetworkRetries: 0,
  });
});

afterAll(async () => {
  await sim.close();
  await new Promise((resolve) => receiver.close(resolve));
});

beforeEach(() => {
  sim.reset();
  received = [];
  receiverStatus = 200;
  sim.configure({
    stripe: { webhookUrl: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/stripe`, webhookSecret: SECRET, priceAmounts: { price_pro: 25_000 } },
  });
});

async function control<T>(path: string): Promise<T> {
  const response = await fetch(`${sim.url}${path}`, { method: "POST" });
  expect(response.status).toBe(200);
  return (await response.json()) as T;
}

function verifiedEvents(): Stripe.Event[] {
  return received.map((r) => stripe.webhooks.constructEvent(r.body, r.signature, SECRET));
}

async function subscribe(email: string) {
  const customer = await stripe.customers.create({ email, metadata: { userId: "u1" } });
  const session = await stripe.checkout.sessions.create({
    mode: "subscription",
    customer: customer.id,
    client_reference_id: "u1",
    line_items: [{ price: "price_pro", quantity: 1 }],
    success_url: "http://127.0.0.1:5173/billing?session={CHECKOUT_SESSION_ID}",
    cancel_url: "http://127.0.0.1:5173/billing",
    subscription_data: { metadata: { userId: "u1" } },
  });
  const completed = await control<{ subscription: Stripe.Subscription }>(`/_sim/stripe/checkout/${session.id}/complete`);
  return { customer, session, subscription: completed.subscription };
}

describe("stripe", () => {
  it("decodes stripe-node's bracketed form bodies", () => {
    expect(parseStripeForm("line_items[0][price]=p&line_items[0][quantity]=2&metadata[a]=b&expand[]=x&expand[]=y&mode=subscription")).toEqual({
      line_items: [{ price: "p", quantity: "2" }],
      metadata: { a: "b" },
      expand: ["x", "y"],
      mode: "subscription",
    });
  });

  it("creates a checkout session whose completion delivers signed, verifiable webhooks", async () => {
    const { customer, session, subscription } = await subscribe("ada@example.com");
    expect(session.url).toMatch(new RegExp(`/_sim/stripe/checkout/${session.id}$`));
    expect(session.status).toBe("open");

    const events = verifiedEvents();
    expect(events.map((e) => e.type)).toEqual(["customer.subscription.created", "checkout.session.completed", "invoice.paid"]);
    const completed = events[1].data.object as Stripe.Checkout.Session;
    expect(completed).toMatchObject({ client_reference_id: "u1", customer: customer.id, subscription: subscription.id, status: "complete", payment_status: "paid" });
    const created = events[0].data.object as Stripe.Subscription;
    expect(created.status).toBe("active");
    expect(created.metadata).toEqual({ userId: "u1" });
    expect(created.items.data[0].current_period_end).toBeGreaterThan(created.items.data[0].current_period_start);
    const invoice = events[2].data.object as Stripe.Invoice;
    expect(invoice.parent?.subscription_details?.subscription).toBe(subscription.id);
    expect(invoice.amount_paid).toBe(25_000);

    // The SDK reads the same objects back.
    await expect(stripe.subscriptions.retrieve(subscription.id)).resolves.toMatchObject({ status: "active" });
    await expect(stripe.checkout.sessions.retrieve(session.id)).resolves.toMatchObject({ status: "complete" });
    await expect(stripe.events.retrieve(events[0].id)).resolves.toMatchObject({ type: "customer.subscription.created" });
  });

  it("signs with the configured secret only", async () => {
    await subscribe("bob@example.com");
    expect(() => stripe.webhooks.constructEvent(received[0].body, received[0].signature, "whsec_other")).toThrow();
  });

  it("records each delivery with the app's status", async () => {
    receiverStatus = 500;
    await subscribe("cy@example.com");
    const { deliveries } = (await fetch(`${sim.url}/_sim/webhooks?provider=stripe`).then((r) => r.json())) as { deliveries: { status: number; eventType: string }[] };
    expect(deliveries.map((d) => d.status)).toEqual([500, 500, 500]);
    expect(deliveries[0].eventType).toBe("customer.subscription.created");
  });

  it("redelivers a recorded event with the same id and a fresh valid signature", async () => {
    receiverStatus = 500;
    await subscribe("redo@example.com");
    const { deliveries } = (await fetch(`${sim.url}/_sim/webhooks?provider=stripe`).then((r) => r.json())) as { deliveries: { seq: number; eventId: string }[] };
    receiverStatus = 200;
    received = [];
    const response = await fetch(`${sim.url}/_sim/webhooks/${deliveries[1].seq}/redeliver`, { method: "POST" });
    const { delivery } = (await response.json()) as { delivery: { status: number; redeliveryOf: number; eventId: string } };
    expect(delivery).toMatchObject({ status: 200, redeliveryOf: deliveries[1].seq, eventId: deliveries[1].eventId });
    const [event] = verifiedEvents();
    expect(event.id).toBe(deliveries[1].eventId);
    expect(event.type).toBe("checkout.session.completed");
    expect((await fetch(`${sim.url}/_sim/webhooks/9999/redeliver`, { method: "POST" })).status).toBe(404);
  });

  it("moves a subscription past_due on a failed renewal and deletes it on cancel", async () => {
    const { subscription } = await subscribe("dee@example.com");
    received = [];
    await control(`/_sim/stripe/subscriptions/${subscription.id}/payment_failed`);
    await stripe.subscriptions.cancel(subscription.id);
    const events = verifiedEvents();
    expect(events.map((e) => e.type)).toEqual(["invoice.payment_failed", "customer.subscription.updated", "customer.subscription.deleted"]);
    expect((events[1].data.object as Stripe.Subscription).status).toBe("past_due");
    expect(events[1].data.previous_attributes).toEqual({ status: "active" });
    expect((events[2].data.object as Stripe.Subscription).status).toBe("canceled");
  });

  it("cancels at period end from the portal and deletes the subscription when the period ends", async () => {
    const { customer, subscription } = await subscribe("end@example.com");
    const portal = await stripe.billingPortal.sessions.create({ customer: customer.id });
    const page = await fetch(portal.url).then((r) => r.text());
    const action = /action="([^"]+cancel_at_period_end[^"]*)"/.exec(page)![1].replace(/&#38;/g, "&");
    received = [];
    const clicked = await fetch(`${sim.url}${action}`, { method: "POST", redirect: "manual" });
    expect(clicked.status).toBe(303);
    await control(`/_sim/stripe/subscriptions/${subscription.id}/renew`);
    const events = verifiedEvents();
    expect(events.map((e) => e.type)).toEqual(["customer.subscription.updated", "customer.subscription.deleted"]);
    expect((events[0].data.object as Stripe.Subscription).cancel_at_period_end).toBe(true);
    expect(events[0].data.previous_attributes).toEqual({ cancel_at_period_end: false });
  });

  it("renews: the period advances and a new invoice is paid", async () => {
    const { subscription } = await subscribe("renew@example.com");
    received = [];
    await control(`/_sim/stripe/subscriptions/${subscription.id}/renew`);
    const events = verifiedEvents();
    expect(events.map((e) => e.type)).toEqual(["invoice.paid", "customer.subscription.updated"]);
    const renewed = events[1].data.object as Stripe.Subscription;
    expect(renewed.items.data[0].current_period_start).toBe(subscription.items.data[0].current_period_end);
    expect((events[0].data.object as Stripe.Invoice).billing_reason).toBe("subscription_cycle");
  });

  it("creates a portal session for an existing customer and 404s for an unknown one", async () => {
    const customer = await stripe.customers.create({ email: "eve@example.com" });
    const portal = await stripe.billingPortal.sessions.create({ customer: customer.id, return_url: "http://127.0.0.1:5173/billing" });
    expect(portal.url).toContain(`/_sim/stripe/portal/${portal.id}`);
    const page = await fetch(portal.url).then((r) => r.text());
    expect(page).toContain("Manage billing");
    const error = await stripe.billingPortal.sessions.create({ customer: "cus_missing" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(error).toMatchObject({ statusCode: 404, code: "resource_missing", param: "customer" });
  });

  it("accepts meter events, rejects duplicates by identifier and stale timestamps", async () => {
    const customer = await stripe.customers.create({ email: "fay@example.com" });
    const event = await stripe.billing.meterEvents.create({
      event_name: "ai_tokens",
      payload: { stripe_customer_id: customer.id, value: "1200" },
      identifier: "usage-u1-2026-11",
    });
    expect(event).toMatchObject({ object: "billing.meter_event", event_name: "ai_tokens", identifier: "usage-u1-2026-11", payload: { value: "1200" } });
    await expect(
      stripe.billing.meterEvents.create({ event_name: "ai_tokens", payload: { stripe_customer_id: customer.id, value: "5" }, identifier: "usage-u1-2026-11" }),
    ).rejects.toMatchObject({ statusCode: 400, param: "identifier" });
    await expect(
      stripe.billing.meterEvents.create({ event_name: "ai_tokens", payload: { stripe_customer_id: customer.id, value: "5" }, timestamp: Math.floor(Date.now() / 1000) - 40 * 86_400 }),
    ).rejects.toMatchObject({ statusCode: 400, param: "timestamp" });
    const dump = (await fetch(`${sim.url}/_sim/stripe`).then((r) => r.json())) as { meterEvents: unknown[] };
    expect(dump.meterEvents).toHaveLength(1);
  });

  it("replays a repeated Idempotency-Key and refuses it with other parameters", async () => {
    const first = await stripe.customers.create({ email: "idem@example.com" }, { idempotencyKey: "key-1" });
    const again = await stripe.customers.create({ email: "idem@example.com" }, { idempotencyKey: "key-1" });
    expect(again.id).toBe(first.id);
    const raw = await fetch(`${sim.url}/v1/customers`, {
      method: "POST",
      headers: { authorization: "Bearer sk_test_simulator", "content-type": "application/x-www-form-urlencoded", "idempotency-key": "key-1" },
      body: "email=idem%40example.com",
    });
    expect(raw.headers.get("idempotent-replayed")).toBe("true");
    expect(((await raw.json()) as { id: string }).id).toBe(first.id);
    const dump = (await fetch(`${sim.url}/_sim/stripe`).then((r) => r.json())) as { customers: unknown[] };
    expect(dump.customers).toHaveLength(1);
    const error = await stripe.customers.create({ email: "other@example.com" }, { idempotencyKey: "key-1" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
  });

  it("refuses a bad key with Stripe's 401", async () => {
    const bad = new Stripe("sk_test_invalid", { host: "127.0.0.1", port: sim.port, protocol: "http", httpClient: Stripe.createFetchHttpClient(), maxNetworkRetries: 0 });
    await expect(bad.customers.create({ email: "x@example.com" })).rejects.toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
  });

  it("injects failures in Stripe's error shape", async () => {
    sim.configure({ fail: { status: 500, count: 1, pathPrefix: "/v1/customers", shouldRetry: false } });
    const error = await stripe.customers.create({ email: "x@example.com" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Stripe.errors.StripeAPIError);
    expect(error).toMatchObject({ statusCode: 500, type: "StripeAPIError" });
  });

  it("completes checkout from the hosted page and redirects to success_url", async () => {
    const session = await stripe.checkout.sessions.create({
      mode: "subscription",
      customer_email: "gil@example.com",
      line_items: [{ price: "price_pro", quantity: 1 }],
      success_url: "http://127.0.0.1:5173/billing?session={CHECKOUT_SESSION_ID}",
    });
    const html = await fetch(session.url!).then((r) => r.text());
    expect(html).toContain("Pay and subscribe");
    const response = await fetch(`${sim.url}/_sim/stripe/checkout/${session.id}/complete?redirect=1`, { method: "POST", redirect: "manual" });
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe(`http://127.0.0.1:5173/billing?session=${session.id}`);
    // A new customer is created from customer_email and announced first.
    expect(verifiedEvents().map((e) => e.type)[0]).toBe("customer.created");
  });
});

describe("stripe metered billing", () => {
  const METERED = {
    price_in: { eventName: "input_tokens", unitAmountDecimal: "0.0003" },
    price_out: { eventName: "output_tokens", unitAmountDecimal: "0.0015" },
  };

  beforeEach(() => {
    sim.configure({ stripe: { meteredPrices: METERED } });
  });

  async function subscribeMetered(email: string) {
    const customer = await stripe.customers.create({ email });
    const session = await stripe.checkout.sessions.create({
      mode: "subscription",
      customer: customer.id,
      line_items: [{ price: "price_pro", quantity: 1 }, { price: "price_in" }, { price: "price_out" }],
      success_url: "http://127.0.0.1:5173/billing",
    });
    expect(session.amount_total).toBe(25_000);
    const completed = await control<{ subscription: Stripe.Subscription }>(`/_sim/stripe/checkout/${session.id}/complete`);
    return { customer, subscription: completed.subscription };
  }

  async function meter(customer: string, eventName: string, value: number, identifier: string, timestamp = Math.floor(Date.now() / 1000)) {
    await stripe.billing.meterEvents.create({ event_name: eventName, payload: { stripe_customer_id: customer, value: String(value) }, identifier, timestamp });
  }

  it("rounds a usage line to the cent, half up, from a decimal unit price", () => {
    expect(usageAmountCents(1_700, "0.0003")).toBe(1); // 0.51
    expect(usageAmountCents(2_000, "0.00025")).toBe(1); // 0.5
    expect(usageAmountCents(1_999, "0.00025")).toBe(0); // 0.49975
    expect(usageAmountCents(1_123_457, "0.0015")).toBe(1_685); // 1685.1855
    expect(usageAmountCents(3, "12")).toBe(36);
  });

  it("lists a meter for each metered price's event and creates more", async () => {
    const meters = await stripe.billing.meters.list({ status: "active" });
    expect(meters.data.map((m) => m.event_name).sort()).toEqual(["input_tokens", "output_tokens"]);
    expect(meters.data[0]).toMatchObject({ object: "billing.meter", status: "active", default_aggregation: { formula: "sum" } });
    const created = await stripe.billing.meters.create({ display_name: "Other", event_name: "other", default_aggregation: { formula: "sum" } });
    expect(created.id).toMatch(/^mtr_/);
    await expect(stripe.billing.meters.create({ display_name: "Again", event_name: "other", default_aggregation: { formula: "sum" } })).rejects.toMatchObject({ statusCode: 400, param: "event_name" });
    expect((await stripe.billing.meters.list()).data).toHaveLength(3);
  });

  it("summarises a customer's meter events over a minute-aligned period", async () => {
    const { customer } = await subscribeMetered("sum@example.com");
    const other = await stripe.customers.create({ email: "other@example.com" });
    const start = Math.floor(Date.now() / 60_000) * 60 - 3_600;
    await meter(customer.id, "input_tokens", 100_000, "a", start + 10);
    await meter(customer.id, "input_tokens", 40_460, "b", start + 20);
    await meter(customer.id, "output_tokens", 7, "c", start + 30);
    await meter(other.id, "input_tokens", 999, "d", start + 40);
    await meter(customer.id, "input_tokens", 5, "e", start - 60);
    const input = (await stripe.billing.meters.list()).data.find((m) => m.event_name === "input_tokens")!;
    const summaries = await stripe.billing.meters.listEventSummaries(input.id, { customer: customer.id, start_time: start, end_time: start + 3_600 });
    expect(summaries.data).toEqual([expect.objectContaining({ object: "billing.meter_event_summary", aggregated_value: 140_460, meter: input.id, start_time: start, end_time: start + 3_600 })]);
    await expect(stripe.billing.meters.listEventSummaries(input.id, { customer: customer.id, start_time: start + 1, end_time: start + 3_600 })).rejects.toMatchObject({ statusCode: 400, param: "start_time" });
    await expect(stripe.billing.meters.listEventSummaries(input.id, { customer: "cus_missing", start_time: start, end_time: start + 3_600 })).rejects.toMatchObject({ statusCode: 404 });
  });

  it("bills metered items in arrears at renewal and previews the usage so far, each line rounded to the cent", async () => {
    const { customer, subscription } = await subscribeMetered("metered@example.com");
    const item = subscription.items.data.find((i) => i.price.id === "price_in")!;
    expect(item.price.recurring).toMatchObject({ usage_type: "metered", meter: expect.stringMatching(/^mtr_/) });
    expect(item.quantity).toBeUndefined();
    // The first invoice bills the plan only.
    expect((verifiedEvents().find((e) => e.type === "invoice.paid")!.data.object as Stripe.Invoice).amount_paid).toBe(25_000);

    await meter(customer.id, "input_tokens", 1_700, "in-1");
    await meter(customer.id, "output_tokens", 1_123_457, "out-1");
    const preview = await stripe.invoices.createPreview({ customer: customer.id, subscription: subscription.id });
    expect(preview.lines.data.map((l) => [l.pricing?.price_details?.price, l.amount])).toEqual([["price_pro", 25_000], ["price_in", 1], ["price_out", 1_685]]);
    expect(preview.amount_due).toBe(26_686);

    received = [];
    await control(`/_sim/stripe/subscriptions/${subscription.id}/renew`);
    const renewal = verifiedEvents().find((e) => e.type === "invoice.paid")!.data.object as Stripe.Invoice;
    expect(renewal.amount_paid).toBe(26_686);
    // The new period starts with no usage.
    const next = await stripe.invoices.createPreview({ customer: customer.id, subscription: subscription.id });
    expect(next.amount_due).toBe(25_000);
  });

  it("refuses a metered price knob that is not a decimal of cents", async () => {
    const response = await fetch(`${sim.url}/_sim/config`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ stripe: { meteredPrices: { p: { eventName: "x", unitAmountDecimal: "$3" } } } }) });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain("stripe.meteredPrices.p.unitAmountDecimal");
  });
});

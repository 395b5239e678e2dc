// The simulated Polar API driven by @polar-sh/sdk (which validates every response against its
// schemas), with webhooks checked by the SDK's own validateEvent.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Polar } from "@polar-sh/sdk";
import { validateEvent, WebhookVerificationError } from "@polar-sh/sdk/webhooks";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startSimulator, type RunningSimulator } from "./server.ts";

const SECRET = "polar_whs_test";
const PRODUCT = "0b9f7c2e-1d3a-4c5b-8e6f-7a8b9c0d1e2f";
let sim: RunningSimulator;
let polar: Polar;
let receiver: http.Server;
let hooks: { headers: Record<string, string>; body: string }[] = [];

beforeAll(async () => {
  receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      hooks.push({ headers: req.headers as Record<string, string>, body: Buffer.concat(chunks).toString("utf8") });
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  sim = await startSimulator({ port: 0, useEnv: false });
  polar = new Polar({ accessToken: "polar_oat_simulator", serverURL: sim.url });
});

afterAll(async () => {
  await sim.close();
  await new Promise((resolve) => receiver.close(resolve));
});

beforeEach(() => {
  sim.reset();
  hooks = [];
  sim.configure({ polar: { webhookUrl: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/polar`, webhookSecret: SECRET, priceAmounts: { [PRODUCT]: 2500 } } });
});

async function subscribe(externalCustomerId: string) {
  const checkout = await polar.checkouts.create({
    products: [PRODUCT],
    externalCustomerId,
    customerEmail: `${externalCustomerId}@example.com`,
    successUrl: "http://127.0.0.1:5173/billing?checkout={CHECKOUT_ID}",
    metadata: { userId: externalCustomerId },
  });
  const response = await fetch(`${sim.url}/_sim/polar/checkouts/${checkout.id}/complete`, { method: "POST" });
  expect(response.status).toBe(200);
  const { subscription } = (await response.json()) as { subscription: { id: string } };
  return { checkout, subscription };
}

const events = () => hooks.map((h) => validateEvent(h.body, h.headers, SECRET));

describe("polar", () => {
  it("creates a checkout the SDK accepts and delivers webhooks validateEvent parses", async () => {
    const { checkout, subscription } = await subscribe("user-1");
    expect(checkout).toMatchObject({ status: "open", totalAmount: 2500, externalCustomerId: "user-1", productId: PRODUCT });
    expect(checkout.url).toContain("/_sim/polar/checkout/polar_c_");

    const parsed = events();
    expect(parsed.map((e) => e.type)).toEqual(["subscription.created", "subscription.active", "order.created", "order.paid"]);
    const paid = parsed[3];
    if (paid.type !== "order.paid") throw new Error("unexpected event");
    expect(paid.data).toMatchObject({ status: "paid", totalAmount: 2500, billingReason: "subscription_create", subscriptionId: subscription.id });
    const created = parsed[0];
    if (created.type !== "subscription.created") throw new Error("unexpected event");
    expect(created.data).toMatchObject({ id: subscription.id, status: "active", amount: 2500, metadata: { userId: "user-1" } });
    expect(created.data.customer.externalId).toBe("user-1");
    expect(created.data.currentPeriodEnd.getTime()).toBeGreaterThan(created.data.currentPeriodStart.getTime());

    await expect(polar.checkouts.get({ id: checkout.id })).resolves.toMatchObject({ status: "succeeded", subscriptionId: subscription.id });
  });

  it("redelivers with the same webhook-id, which validateEvent still accepts", async () => {
    await subscribe("user-7");
    const first = hooks[0];
    hooks = [];
    const { deliveries } = (await fetch(`${sim.url}/_sim/webhooks?provider=polar`).then((r) => r.json())) as { deliveries: { seq: number }[] };
    await fetch(`${sim.url}/_sim/webhooks/${deliveries[0].seq}/redeliver`, { method: "POST" });
    expect(hooks[0].headers["webhook-id"]).toBe(first.headers["webhook-id"]);
    expect(validateEvent(hooks[0].body, hooks[0].headers, SECRET).type).toBe("subscription.created");
  });

  it("signs with the configured secret only", async () => {
    await subscribe("user-2");
    expect(() => validateEvent(hooks[0].body, hooks[0].headers, "polar_whs_other")).toThrow(WebhookVerificationError);
  });

  it("opens a customer portal session for a known external customer and 404s otherwise", async () => {
    await subscribe("user-3");
    const session = await polar.customerSessions.create({ externalCustomerId: "user-3", returnUrl: "http://127.0.0.1:5173/billing" });
    expect(session.customerPortalUrl).toContain("customer_session_token=");
    const page = await fetch(session.customerPortalUrl).then((r) => r.text());
    expect(page).toContain("Your subscriptions");
    await expect(polar.customerSessions.create({ externalCustomerId: "nobody" })).rejects.toMatchObject({ statusCode: 404 });
  });

  it("ingests usage events and counts duplicates by external_id", async () => {
    const batch = { events: [{ name: "ai_tokens", externalCustomerId: "user-4", externalId: "req_1", metadata: { tokens: 1200 } }] };
    await expect(polar.events.ingest(batch)).resolves.toEqual({ inserted: 1, duplicates: 0 });
    await expect(polar.events.ingest(batch)).resolves.toEqual({ inserted: 0, duplicates: 1 });
    const dump = (await fetch(`${sim.url}/_sim/polar`).then((r) => r.json())) as { events: unknown[] };
    expect(dump.events).toEqual([expect.objectContaining({ name: "ai_tokens", external_customer_id: "user-4", external_id: "req_1" })]);
  });

  it("announces cancel at period end, revocation and past due", async () => {
    const { subscription } = await subscribe("user-5");
    hooks = [];
    for (const action of ["cancel", "past_due", "revoke"]) {
      const response = await fetch(`${sim.url}/_sim/polar/subscriptions/${subscription.id}/${action}`, { method: "POST" });
      expect(response.status).toBe(200);
    }
    const parsed = events();
    expect(parsed.map((e) => e.type)).toEqual([
      "subscription.canceled",
      "subscription.updated",
      "subscription.past_due",
      "subscription.updated",
      "subscription.revoked",
      "subscription.updated",
    ]);
    const canceled = parsed[0];
    if (canceled.type !== "subscription.canceled") throw new Error("unexpected event");
    expect(canceled.data.cancelAtPeriodEnd).toBe(true);
    const revoked = parsed[4];
    if (revoked.type !== "subscription.revoked") throw new Error("unexpected event");
    expect(revoked.data.status).toBe("canceled");
  });

  it("bills renewals with a new paid order and announces refunds", async () => {
    const { subscription } = await subscribe("user-6");
    hooks = [];
    await fetch(`${sim.url}/_sim/polar/subscriptions/${subscription.id}/renew`, { method: "POST" });
    const renewal = events();
    expect(renewal.map((e) => e.type)).toEqual(["order.created", "order.paid", "subscription.updated"]);
    const paid = renewal[1];
    if (paid.type !== "order.paid") throw new Error("unexpected event");
    expect(paid.data.billingReason).toBe("subscription_cycle");
    hooks = [];
    const refund = await fetch(`${sim.url}/_sim/polar/orders/${paid.data.id}/refund`, { method: "POST" });
    expect(refund.status).toBe(200);
    const refunded = events()[0];
    if (refunded.type !== "order.refunded") throw new Error("unexpected event");
    expect(refunded.data).toMatchObject({ status: "refunded", refundedAmount: 2500 });
  });

  it("refuses a bad token and a non-UUID product", async () => {
    const bad = new Polar({ accessToken: "polar_oat_invalid", serverURL: sim.url });
    await expect(bad.checkouts.create({ products: [PRODUCT] })).rejects.toMatchObject({ statusCode: 401 });
    await expect(polar.checkouts.create({ products: ["not-a-uuid"] })).rejects.toMatchObject({ statusCode: 422 });
  });
});

// POST /webhooks/polar end to end: Standard Webhooks signed under both of Polar's key schemes
// (the standardwebhooks signer for secrets made from 2026-09-08; an HMAC keyed by the secret's
// UTF-8 bytes for older ones, which is what the provider simulator sends).
import { describe, expect, test, vi } from "vitest";
import { newTest } from "../test.setup";
import { polarEvent, polarSubscription } from "../model/billing/providerEvents.setup";
import { allEvents, billedCustomer, billingRows, expectUntouched, POLAR_SECRET, postPolar, PRODUCT, useBillingEnv } from "./webhooks.setup";

const CUSTOMER = "6b0e0000-0000-4000-8000-00000000c001";

function active(userId: string, id = "5ab00000-0000-4000-8000-000000000001") {
  return polarEvent("subscription.active", polarSubscription({ id, externalId: userId, customerId: CUSTOMER, productId: PRODUCT.pro, modifiedAt: Date.now() }));
}

useBillingEnv();

describe("both secret schemes", () => {
  test("a real Standard Webhooks secret (base64 key after whsec_)", async () => {
    const t = newTest();
    const { userId } = await billedCustomer(t, "new@example.com", null);
    const res = await postPolar(t, active(userId), { scheme: "standard" });
    expect(res).toEqual({ status: 200, body: { received: true, status: "applied", outcome: "subscription active; account trial -> active; plan trial -> pro", replayed: false } });
    expect((await billingRows(t, userId)).user).toMatchObject({ state: "active", plan: "pro", billingProvider: "polar", polarCustomerId: CUSTOMER });
  });

  test("an older whsec_ secret keyed by its UTF-8 bytes", async () => {
    const t = newTest();
    const { userId } = await billedCustomer(t, "old@example.com", null);
    const res = await postPolar(t, active(userId), { scheme: "utf8" });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe("applied");
  });

  test("a secret that is not base64 at all (the simulator's) works with the UTF-8 scheme", async () => {
    vi.stubEnv("POLAR_WEBHOOK_SECRET", "polar_whs_simulator");
    const t = newTest();
    const { userId } = await billedCustomer(t, "sim@example.com", null);
    expect((await postPolar(t, active(userId), { scheme: "utf8", secret: "polar_whs_simulator" })).status).toBe(200);
  });
});

describe("refusals: 400 with the reason, nothing recorded or changed", () => {
  const cases: Array<[string, Parameters<typeof postPolar>[2], RegExp]> = [
    ["tampered body (standard)", { scheme: "standard", body: JSON.stringify({ type: "subscription.revoked", data: {} }) }, /No matching signature/],
    ["tampered body (utf8)", { scheme: "utf8", body: JSON.stringify({ type: "subscription.revoked", data: {} }) }, /No matching signature/],
    ["wrong secret", { scheme: "standard", secret: `whsec_${btoa("another-endpoint-secret-32-bytes")}` }, /No matching signature/],
    ["missing webhook-id", { omit: "webhook-id" }, /Missing webhook-id/],
    ["missing webhook-signature", { omit: "webhook-signature" }, /Missing webhook-id/],
    ["timestamp 6 minutes old", { at: new Date(Date.now() - 6 * 60_000) }, /too old/],
    ["timestamp 6 minutes ahead", { scheme: "utf8", at: new Date(Date.now() + 6 * 60_000) }, /too new/],
  ];
  for (const [name, opts, message] of cases) {
    test(name, async () => {
      const t = newTest();
      const { userId } = await billedCustomer(t, "victim@example.com", null);
      const res = await postPolar(t, active(userId), opts);
      expect(res.status).toBe(400);
      expect(res.body.error).toMatch(message);
      await expectUntouched(t, userId);
    });
  }

  test("a signed body that is not JSON, or not an event", async () => {
    const t = newTest();
    expect((await postPolar(t, null, { body: "not json", scheme: "standard" })).status).toBe(400);
    // Signed over the text, so only the JSON check can refuse it.
    expect((await postPolar(t, { data: {} })).body.error).toMatch(/not a Polar event/);
    expect(await allEvents(t)).toEqual([]);
  });

  test("without POLAR_WEBHOOK_SECRET: 500, nothing recorded", async () => {
    vi.stubEnv("POLAR_WEBHOOK_SECRET", "");
    const t = newTest();
    const res = await postPolar(t, polarEvent("order.created", {}), { secret: POLAR_SECRET });
    expect(res.status).toBe(500);
    expect(await allEvents(t)).toEqual([]);
  });
});

describe("replays and unknown types", () => {
  test("a redelivery (same webhook-id, fresh signature) is a 200 that changes nothing", async () => {
    const t = newTest();
    const { userId } = await billedCustomer(t, "replay@example.com", null);
    const event = active(userId);
    const first = await postPolar(t, event, { id: "msg_same" });
    await t.run(async (ctx) => ctx.db.patch("users", userId, { plan: "basic" }));
    const second = await postPolar(t, event, { id: "msg_same", scheme: "utf8", at: new Date(Date.now() + 1000) });
    expect(second).toEqual({ status: 200, body: { received: true, status: "applied", outcome: first.body.outcome, replayed: true } });
    const rows = await billingRows(t, userId);
    expect(rows.events).toHaveLength(1);
    expect(rows.user.plan).toBe("basic");
  });

  test("types billing does not use are recorded and acknowledged", async () => {
    const t = newTest();
    const res = await postPolar(t, polarEvent("benefit_grant.created", { id: "g1" }), { id: "msg_unknown" });
    expect(res.body).toEqual({ received: true, status: "ignored", outcome: "event type not handled", replayed: false });
    expect(await allEvents(t)).toEqual([expect.objectContaining({ provider: "polar", eventId: "msg_unknown", type: "benefit_grant.created" })]);
  });
});

// The monthly reconciliation: quiet when the ledger, what was decided, what the provider
// acknowledged and the provider's own meter summaries agree; an alert for support and a
// discrepancy on the support console when any of them differ.
import { describe, expect, test } from "vitest";
import { api, internal } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import { mailClock } from "../email/simulator.setup";
import { OVERAGE_CHUNK_TOKENS as C } from "../model/billing/overage";
import { PLANS } from "../model/plans";
import { signIn, type TestConvex } from "../test.setup";
import {
  AFTER_CLOSE,
  alertsOfKind,
  HOUR,
  METER_EVENTS,
  MONTH,
  overageRows,
  payingAccount,
  rollup,
  START,
  use,
  useOverageStack,
} from "./overage.setup";

const BASIC = PLANS.basic.includedTokens;
/** The reconciliation cron's time: the morning after the close. */
const RECONCILE_AT = Date.UTC(2026, 11, 1, 6, 20);

const stack = useOverageStack();

/** A month of overage reported in full: full chunks during it, the rest at the close. */
async function reportedMonth(clock: ReturnType<typeof mailClock>, t: TestConvex, provider: "stripe" | "polar", email: string) {
  const account = await payingAccount(t, stack.sim, provider, "basic", email);
  await use(t, account.userId, { in: 40_000, out: BASIC + C + 123 }, START - HOUR);
  await t.mutation(internal.billing.overage.decide, { userId: account.userId, month: MONTH });
  await clock.settle(t);
  await clock.settle(t, AFTER_CLOSE);
  await rollup(t);
  await t.mutation(internal.billing.overage.closePreviousMonth, {});
  await clock.settle(t);
  return account;
}

async function reconcile(clock: ReturnType<typeof mailClock>, t: TestConvex) {
  await clock.settle(t, RECONCILE_AT);
  const swept = await t.mutation(internal.billing.overageReconcile.checkPreviousMonth, {});
  await clock.settle(t);
  return swept;
}

/**
 * Overage decided and sent during the month (after `beforeDecide`, e.g. a refusal configured at
 * the provider), the close never run, then the reconciliation the morning after.
 */
async function reconciledWithoutClose(clock: ReturnType<typeof mailClock>, t: TestConvex, email: string, outTokens: number, beforeDecide = () => {}) {
  const { userId } = await payingAccount(t, stack.sim, "stripe", "basic", email);
  await use(t, userId, { out: outTokens }, START - HOUR);
  beforeDecide();
  await t.mutation(internal.billing.overage.decide, { userId, month: MONTH });
  await clock.settle(t);
  await clock.settle(t, RECONCILE_AT);
  await rollup(t);
  await reconcile(clock, t);
  return userId;
}

async function supportView(t: TestConvex, userId: Id<"users">) {
  const { as } = await signIn(t, `agent-${userId}@example.com`, "support");
  return {
    discrepancies: (await as.query(api.billing.overageSupport.discrepancies, { paginationOpts: { numItems: 10, cursor: null } })).page,
    account: await as.query(api.billing.overageSupport.account, { userId }),
  };
}

async function stripeMeterEvent(customer: string, eventName: string, value: number, identifier: string, timestampS: number) {
  const res = await fetch(`${stack.sim.url}/v1/billing/meter_events`, {
    method: "POST",
    headers: { authorization: "Bearer sk_test_simulator", "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      event_name: eventName,
      "payload[stripe_customer_id]": customer,
      "payload[value]": String(value),
      identifier,
      timestamp: String(timestampS),
    }).toString(),
  });
  expect(res.status).toBe(200);
}

describe("Stripe", () => {
  test("equal everywhere, the provider's meter summaries included: recorded ok, no alert", async () => {
    const clock = mailClock(START);
    const t = stack.deployment();
    const { userId } = await reportedMonth(clock, t, "stripe", "equal@example.com");
    expect(await reconcile(clock, t)).toEqual({ enqueued: 1, done: true });

    const { reconciliation } = await overageRows(t, userId);
    const expected = { input: 40_000, output: C + 123 };
    expect(reconciliation).toMatchObject({ status: "ok", billable: expected, reported: expected, sent: expected, providerTotals: expected, discrepancies: [] });
    expect(reconciliation!.providerNote).toBeUndefined();
    // The summaries were asked for November, minute-aligned, per meter.
    const asked = stack.sim.requests({ pathPrefix: "/v1/billing/meters/" }).map((r) => (r as unknown as { query: Record<string, string> }).query);
    expect(asked).toHaveLength(2);
    for (const q of asked) expect(q).toMatchObject({ start_time: String(Date.UTC(2026, 10, 1) / 1000), end_time: String(Date.UTC(2026, 11, 1) / 1000) });
    expect(await alertsOfKind(t, "overage_discrepancy")).toEqual([]);
    const view = await supportView(t, userId);
    expect(view.discrepancies).toEqual([]);
    expect(view.account.months).toEqual([expect.objectContaining({ month: MONTH, reported: expected, sent: expected, reconciliation: expect.objectContaining({ status: "ok" }) })]);
  });

  test("a meter event we never sent: an alert and a discrepancy for support, once", async () => {
    const clock = mailClock(START);
    const t = stack.deployment();
    const { userId, stripeCustomerId } = await reportedMonth(clock, t, "stripe", "extra@example.com");
    // Someone reported usage for this customer outside the app (a script, a second deployment).
    await stripeMeterEvent(stripeCustomerId!, METER_EVENTS.output, 5_000, "stray-event", Date.UTC(2026, 10, 20) / 1000);
    await reconcile(clock, t);

    const { reconciliation } = await overageRows(t, userId);
    expect(reconciliation).toMatchObject({
      status: "discrepancy",
      providerTotals: { input: 40_000, output: C + 123 + 5_000 },
      discrepancies: [{ kind: "provider_mismatch", meter: "output", expected: C + 123, actual: C + 123 + 5_000 }],
    });
    const alerts = await alertsOfKind(t, "overage_discrepancy");
    expect(alerts).toHaveLength(1);
    expect(alerts[0].userId).toBeUndefined(); // for support, not on the customer's dashboard
    expect(alerts).toEqual([expect.objectContaining({ severity: "warning", message: expect.stringMatching(/extra@example\.com in 2026-11 .*provider's meter total differs.*expected 100,123, found 105,123/) })]);
    const view = await supportView(t, userId);
    expect(view.discrepancies).toEqual([
      expect.objectContaining({ userId, email: "extra@example.com", month: MONTH, status: "discrepancy", discrepancies: [expect.objectContaining({ kind: "provider_mismatch", message: expect.stringContaining("output tokens") })] }),
    ]);

    // Checked again (a rerun of the cron): the same finding, no second alert.
    await t.mutation(internal.billing.overageReconcile.sweep, { month: MONTH });
    await clock.settle(t);
    expect(await alertsOfKind(t, "overage_discrepancy")).toHaveLength(1);
  });

  test("the close never ran: the ledger's last tokens are unreported", async () => {
    const clock = mailClock(START);
    const t = stack.deployment();
    const userId = await reconciledWithoutClose(clock, t, "unclosed@example.com", BASIC + C + 123);
    expect((await overageRows(t, userId)).reconciliation).toMatchObject({
      status: "discrepancy",
      discrepancies: [{ kind: "unreported", meter: "output", expected: C + 123, actual: C }],
    });
    expect(await alertsOfKind(t, "overage_discrepancy")).toHaveLength(1);
  });

  test("a row the provider refused: decided but unacknowledged", async () => {
    const clock = mailClock(START);
    const t = stack.deployment();
    const userId = await reconciledWithoutClose(clock, t, "refused@example.com", BASIC + 2 * C, () =>
      stack.sim.configure({ fail: { status: 400, count: 1, pathPrefix: "/v1/billing/meter_events" } }),
    );
    expect((await overageRows(t, userId)).reconciliation).toMatchObject({
      status: "discrepancy",
      sent: { input: 0, output: C },
      providerTotals: { input: 0, output: C },
      discrepancies: [{ kind: "unsent", meter: "output", expected: 2 * C, actual: C }],
    });
  });
});

describe("Polar", () => {
  test("no meter summary to read: checked against the ledger and acknowledgements, and says so", async () => {
    const clock = mailClock(START);
    const t = stack.deployment();
    const { userId } = await reportedMonth(clock, t, "polar", "polar-equal@example.com");
    await reconcile(clock, t);
    const { reconciliation } = await overageRows(t, userId);
    expect(reconciliation).toMatchObject({ status: "ok", provider: "polar", providerTotals: null, providerNote: expect.stringMatching(/polar offers no meter summary/) });
    expect(await alertsOfKind(t, "overage_discrepancy")).toEqual([]);
  });
});

test("accounts with nothing billable and nothing reported are not checked", async () => {
  const clock = mailClock(START);
  const t = stack.deployment();
  const { userId } = await payingAccount(t, stack.sim, "stripe", "basic", "small@example.com");
  await use(t, userId, { in: 1_000, out: 2_000 }, START - HOUR);
  const { userId: trial } = await signIn(t, "trial@example.com");
  await use(t, trial, { out: 400_000 }, START - HOUR);
  await clock.settle(t, RECONCILE_AT);
  await rollup(t);
  expect(await reconcile(clock, t)).toEqual({ enqueued: 0, done: true });
  expect((await overageRows(t, userId)).reconciliation).toBeNull();
});

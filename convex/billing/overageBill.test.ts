// The dashboard's bill (plan + overage, from our ledger) equals what Stripe invoices in the
// simulator, to the cent: a real checkout with the plan's metered prices, a month of usage
// reported through the meters, then the invoice preview and the renewal invoice (which reaches
// our invoices table through the invoice.paid webhook) against api.billing.overageBill.mine.
import { describe, expect, test } from "vitest";
import { api, internal } from "../_generated/api";
import { mailClock } from "../email/simulator.setup";
import { type PlanId, PLANS } from "../model/plans";
import { newTest, signIn } from "../test.setup";
import { AFTER_CLOSE, HOUR, MONTH, OVERAGE_PRICE, rollup, START, use, useOverageStack } from "./overage.setup";
import { control } from "./simulator.setup";
import { billingRows, PRICE } from "./webhooks.setup";

const stack = useOverageStack();

const BASIC = PLANS.basic.includedTokens;
const PRO = PLANS.pro.includedTokens;
const CENT = 10_000;

async function invoicePreview(customer: string, subscription: string): Promise<{ amount_due: number; lines: { data: Array<{ amount: number; quantity: number }> } }> {
  const res = await fetch(`${stack.sim.url}/v1/invoices/create_preview`, {
    method: "POST",
    headers: { authorization: "Bearer sk_test_simulator", "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ customer, subscription }).toString(),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as { amount_due: number; lines: { data: Array<{ amount: number; quantity: number }> } };
}

describe("the month's bill equals Stripe's invoice", () => {
  test.each([
    // name, plan, the month's usage (split over three requests), overage cents as invoiced (input, output)
    ["basic, over on both meters", "basic", { in: 6_000_000, out: 6_123_457 }, [1_800, 1_685]],
    ["basic, output covered first: input pays for the rest", "basic", { in: 3_217_003, out: 4_123_457 }, [702, 0]],
    ["pro, a half cent on the input line rounds up", "pro", { in: 2_000, out: PRO + 1_234_567 }, [1, 1_481]],
    ["basic, within the included tokens", "basic", { in: 1_000_000, out: 2_000_000 }, [0, 0]],
  ] as [string, PlanId, { in: number; out: number }, [number, number]][])("%s", async (_name, plan, usage, [inCents, outCents]) => {
    const clock = mailClock(START);
    const t = stack.deployment();
    const { userId, as } = await signIn(t, `${plan}-${usage.in}@example.com`);
    const { url } = await as.action(api.billing.checkout.start, { plan: plan as "basic" | "pro" });
    // Checkout subscribes the customer to the plan and to its two metered overage prices.
    const checkoutCall = stack.sim.requests({ pathPrefix: "/v1/checkout/sessions" }).find((r) => r.method === "POST")!;
    const overagePrices = OVERAGE_PRICE[plan as "basic" | "pro"];
    expect((checkoutCall.body as { line_items: unknown[] }).line_items).toEqual([
      { price: PRICE[plan as "basic" | "pro"], quantity: "1" },
      { price: overagePrices.input },
      { price: overagePrices.output },
    ]);
    const { subscription } = await control<{ subscription: { id: string; customer: string } }>(stack.sim, `/_sim/stripe/checkout/${url.split("/").pop()}/complete`);
    expect((await billingRows(t, userId)).user).toMatchObject({ state: "active", plan });

    // A month of requests, the reporting cron ticking in between, then the close.
    const thirds = [0, 1, 2].map((i) => ({ in: Math.floor(usage.in / 3) + (i === 0 ? usage.in % 3 : 0), out: Math.floor(usage.out / 3) + (i === 0 ? usage.out % 3 : 0) }));
    for (const [i, part] of thirds.entries()) {
      await use(t, userId, part, START + (i + 1) * HOUR);
      await clock.settle(t, START + (i + 2) * HOUR);
      await t.mutation(internal.billing.overage.decide, { userId, month: MONTH });
      await clock.settle(t);
    }
    await clock.settle(t, AFTER_CLOSE);
    await rollup(t);
    await t.mutation(internal.billing.overage.closePreviousMonth, {});
    await clock.settle(t);

    const bill = await as.query(api.billing.overageBill.mine, { month: MONTH });
    expect(bill.lines.map((l) => l.amountMicros / CENT)).toEqual([inCents, outCents]);
    expect(bill.planMicros).toBe(PLANS[plan].priceMicrosPerMonth);
    expect(bill.totalMicros).toBe(bill.planMicros + (inCents + outCents) * CENT);
    // Everything billable was reported and acknowledged.
    expect(bill.reported).toEqual(bill.billable);
    expect(bill.sent).toEqual(bill.billable);
    // overageMicros (micro-dollar exact) and the invoiced lines differ by the lines' rounding only.
    expect(Math.abs(bill.overageBilledMicros - bill.overageMicros)).toBeLessThanOrEqual(CENT);

    // Stripe's upcoming invoice: the plan for the next period, this period's usage on the meters.
    const preview = await invoicePreview(subscription.customer, subscription.id);
    expect(preview.lines.data.map((l) => l.amount)).toEqual([PLANS[plan].priceMicrosPerMonth / CENT, inCents, outCents]);
    expect(preview.amount_due * CENT).toBe(bill.totalMicros);

    // The period ends: the renewal invoice arrives through invoice.paid, for exactly that much.
    await control(stack.sim, `/_sim/stripe/subscriptions/${subscription.id}/renew`);
    const invoices = (await billingRows(t, userId)).invoices.sort((a, b) => a.createdAt - b.createdAt);
    expect(invoices.map((i) => i.amountMicros)).toEqual([PLANS[plan].priceMicrosPerMonth, bill.totalMicros]);
  });

  test("when both lines round up, the bill follows the invoice, a cent above overageMicros", async () => {
    const clock = mailClock(START);
    const t = stack.deployment();
    const { userId, as } = await signIn(t, "rounding@example.com");
    const { url } = await as.action(api.billing.checkout.start, { plan: "basic" });
    const { subscription } = await control<{ subscription: { id: string; customer: string } }>(stack.sim, `/_sim/stripe/checkout/${url.split("/").pop()}/complete`);
    // 1,700 input tokens: 0.51 cents; 400 output tokens: 0.6 cents. Each line rounds to 1 cent.
    await use(t, userId, { in: 1_700, out: BASIC + 400 }, START + HOUR);
    await clock.settle(t, AFTER_CLOSE);
    await rollup(t);
    await t.mutation(internal.billing.overage.closePreviousMonth, {});
    await clock.settle(t);

    const bill = await as.query(api.billing.overageBill.mine, { month: MONTH });
    expect(bill.overageMicros).toBe(11_100);
    expect(bill.overageBilledMicros).toBe(2 * CENT);
    expect(bill.totalMicros).toBe(50_020_000);
    expect((await invoicePreview(subscription.customer, subscription.id)).amount_due).toBe(5_002);
  });
});

test("the bill of a month with no account activity is the plan alone", async () => {
  const t = newTest();
  const { as } = await signIn(t, "quiet@example.com", "user", "pro");
  expect(await as.query(api.billing.overageBill.mine, { month: "2026-10" })).toMatchObject({
    plan: "pro",
    provider: null,
    planMicros: 250_000_000,
    overageMicros: 0,
    overageBilledMicros: 0,
    totalMicros: 250_000_000,
    reported: { input: 0, output: 0 },
  });
});

/// <reference types="vite/client" />
// Tests only: overage against the provider simulator. The billing stack (simulator.setup.ts)
// with each plan's metered Stripe prices on the meters this suite's env names, paying accounts
// on either provider, usage in the ledger, and the rows and provider state a test reads back.
import { afterEach, vi } from "vitest";
import { internal } from "../_generated/api";
import type { Doc, Id } from "../_generated/dataModel";
import { restoreClock } from "../email/simulator.setup";
import { centsPerTokenDecimal } from "../model/billing/overage";
import { PLANS } from "../model/plans";
import { signIn, usageEvent, type TestConvex } from "../test.setup";
import { simState, stubSimulatorBillingEnv, useBillingStack, type BillingSimulator, type BillingStack, type SuiteBillingStack } from "./simulator.setup";

export const METER_EVENTS = { input: "test_input_tokens", output: "test_output_tokens" } as const;
export const OVERAGE_PRICE = {
  basic: { input: "price_basic_overage_in_test", output: "price_basic_overage_out_test" },
  pro: { input: "price_pro_overage_in_test", output: "price_pro_overage_out_test" },
} as const;

export const HOUR = 60 * 60 * 1000;
/** Mid-November 2026: the month the tests report; it closes on 1 December. */
export const START = Date.UTC(2026, 10, 10, 9);
export const MONTH = "2026-11";
/** Past the month's end and the close delay: the month's last partial chunks go out. */
export const AFTER_CLOSE = Date.UTC(2026, 11, 1, 0, 15);

/** The simulator prices each plan's overage meters per the plan sheet (cents per token). */
export function configureMeteredPrices(sim: BillingSimulator): void {
  const meteredPrices: Record<string, { eventName: string; unitAmountDecimal: string }> = {};
  for (const plan of ["basic", "pro"] as const) {
    const o = PLANS[plan].overage!;
    meteredPrices[OVERAGE_PRICE[plan].input] = { eventName: METER_EVENTS.input, unitAmountDecimal: centsPerTokenDecimal(o.inputMicrosPerMillion) };
    meteredPrices[OVERAGE_PRICE[plan].output] = { eventName: METER_EVENTS.output, unitAmountDecimal: centsPerTokenDecimal(o.outputMicrosPerMillion) };
  }
  sim.configure({ stripe: { meteredPrices } });
}

/** The deployment's billing env against the simulator, with the overage prices and meter event names. */
export function stubOverageEnv(sim: BillingSimulator, over: Record<string, string> = {}): void {
  stubSimulatorBillingEnv(sim, {
    STRIPE_PRICE_BASIC_OVERAGE_INPUT: OVERAGE_PRICE.basic.input,
    STRIPE_PRICE_BASIC_OVERAGE_OUTPUT: OVERAGE_PRICE.basic.output,
    STRIPE_PRICE_PRO_OVERAGE_INPUT: OVERAGE_PRICE.pro.input,
    STRIPE_PRICE_PRO_OVERAGE_OUTPUT: OVERAGE_PRICE.pro.output,
    STRIPE_METER_EVENT_INPUT: METER_EVENTS.input,
    STRIPE_METER_EVENT_OUTPUT: METER_EVENTS.output,
    POLAR_METER_EVENT_INPUT: METER_EVENTS.input,
    POLAR_METER_EVENT_OUTPUT: METER_EVENTS.output,
    ...over,
  });
}

/** Resets the stack for a test and prices the meters. */
export function resetOverageStack(stack: BillingStack): void {
  stack.reset();
  configureMeteredPrices(stack.sim);
  stubOverageEnv(stack.sim);
}

/**
 * The overage suites' stack: the billing stack with the metered prices before each test, and
 * after each the mocks (crashNext) and the fake clock (mailClock) restored.
 */
export function useOverageStack(): SuiteBillingStack {
  const stack = useBillingStack(resetOverageStack);
  afterEach(() => {
    vi.restoreAllMocks();
    restoreClock();
  });
  return stack;
}

/** A Stripe customer made through the simulator's API, as checkout would have. */
export async function simCustomer(sim: BillingSimulator, email: string): Promise<string> {
  const res = await fetch(`${sim.url}/v1/customers`, {
    method: "POST",
    headers: { authorization: "Bearer sk_test_simulator", "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ email }).toString(),
  });
  return ((await res.json()) as { id: string }).id;
}

/** An account on a paid plan billed by `provider` (Stripe: with its customer at the simulator). */
export async function payingAccount(t: TestConvex, sim: BillingSimulator, provider: "stripe" | "polar", plan: "basic" | "pro", email: string) {
  const { userId, as } = await signIn(t, email, "user", plan);
  const stripeCustomerId = provider === "stripe" ? await simCustomer(sim, email) : undefined;
  await t.run(async (ctx) => ctx.db.patch("users", userId, { billingProvider: provider, stripeCustomerId }));
  return { userId, as, stripeCustomerId };
}

/** One settled request in the ledger. */
export async function use(t: TestConvex, userId: Id<"users">, tokens: { in?: number; out?: number; characters?: number }, at = Date.now()): Promise<void> {
  await usageEvent(t, userId, { tokensIn: tokens.in ?? 0, tokensOut: tokens.out ?? 0, characters: tokens.characters ?? 0, at });
}

/** Folds the ledger into usageMonthly, as the rollup cron does (the clock must be past its lag). */
export async function rollup(t: TestConvex): Promise<void> {
  await t.mutation(internal.usage.rollup.foldEvents, {});
}

export async function overageRows(t: TestConvex, userId: Id<"users">) {
  return await t.run(async (ctx) => ({
    outbox: await ctx.db.query("overageOutbox").withIndex("by_userId_and_month", (q) => q.eq("userId", userId)).collect(),
    cursor: await ctx.db.query("overageCursors").withIndex("by_userId_and_month", (q) => q.eq("userId", userId).eq("month", MONTH)).unique(),
    reconciliation: await ctx.db
      .query("overageReconciliations")
      .withIndex("by_userId_and_month", (q) => q.eq("userId", userId).eq("month", MONTH))
      .unique(),
  }));
}

export async function alertsOfKind(t: TestConvex, kind: string): Promise<Doc<"alerts">[]> {
  return await t.run(async (ctx) => ctx.db.query("alerts").withIndex("by_kind_and_at", (q) => q.eq("kind", kind)).collect());
}

export interface SimMeterEvent {
  event_name: string;
  identifier: string;
  payload: { stripe_customer_id: string; value: string };
  timestamp: number;
}

export async function stripeMeterEvents(sim: BillingSimulator): Promise<SimMeterEvent[]> {
  return (await simState<{ meterEvents: SimMeterEvent[] }>(sim, "stripe")).meterEvents;
}

export interface SimPolarEvent {
  name: string;
  external_customer_id: string;
  external_id: string;
  metadata: { tokens: number; month: string; meter: string };
}

export async function polarEvents(sim: BillingSimulator): Promise<SimPolarEvent[]> {
  return (await simState<{ events: SimPolarEvent[] }>(sim, "polar")).events;
}

/** Token totals per event name. */
export function totalsByName(events: Array<{ name: string; value: number }>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of events) out[e.name] = (out[e.name] ?? 0) + e.value;
  return out;
}

type Handler = (ctx: unknown, args: unknown) => Promise<unknown>;

/**
 * Makes a registered Convex function's handler throw on its next `times` calls, then behave:
 * the function's transaction rolls back as if the process had died before it committed.
 * (convex-test calls the handler it finds on the registered function at each call.)
 */
export function crashNext(fn: unknown, times = 1, message = "the process died before this transaction committed") {
  const registered = fn as { _handler: Handler };
  const original = registered._handler;
  let left = times;
  return vi.spyOn(registered, "_handler").mockImplementation(async (ctx, args) => {
    if (left-- > 0) throw new Error(message);
    return await original(ctx, args);
  });
}

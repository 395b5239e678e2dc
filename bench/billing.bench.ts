/**
 * Billing webhook benchmark: bursts of signed Stripe events (a subscription lifecycle per account,
 * 20 events each; 50 accounts, 1,000 events per burst by default) POSTed to `/webhooks/stripe`
 * with bounded concurrency, timed per request; then proof that every event was applied exactly
 * once (one `webhookEvents` row per event id, every account in the state its lifecycle ends in),
 * and a replay of 100 of them (same body and id, fresh signature) that changes nothing. A smaller
 * Polar burst goes through `/webhooks/polar` the same way.
 *
 *   npm run bench:billing     # starts its own simulator and offline runtime (also part of npm run bench)
 *
 * Stripe events are signed with stripe-node's `generateTestHeaderString`, Polar's with the
 * standardwebhooks signer keyed by the secret's UTF-8 bytes (the scheme of the development
 * secret), both with the secrets `dev/env.ts` gives the runtime, at the moment each is sent.
 * Writes its section of docs/benchmarks.md. See docs/benchmarks.md for every BENCH_BILLING_* variable.
 */
import { createHash } from "node:crypto";
import os from "node:os";
import { ConvexHttpClient } from "convex/browser";
import { Webhook } from "standardwebhooks";
import Stripe from "stripe";
import { internal } from "../convex/_generated/api.js";
import {
  polarEvent,
  polarOrder,
  polarSubscription,
  stripeCheckoutSession,
  stripeEvent,
  stripeInvoice,
  stripeSubscription,
  type PolarSubscriptionOptions,
  type StripeSubscriptionOptions,
} from "../convex/model/billing/providerEvents.setup.ts";
import { DEV_BILLING_PRICES } from "../dev/env.ts";
import type { InlineCtx } from "../dev/runtime/engineHost.ts";
import type { Metrics, Runtime } from "../dev/runtime/server.ts";
import { asAdmin } from "../scripts/cli.ts";
import { intEnv, publishReport, runBenchmark, startBenchStack, type BenchStack } from "./stack.ts";
import { assertLoopback, percentile, runLoad, type Sample } from "./load.ts";

function listEnv(name: string, fallback: number[]): number[] {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const values = raw.split(",").map((s) => Number(s.trim()));
  if (values.some((v) => !Number.isInteger(v) || v < 1)) throw new Error(`${name} must be a comma-separated list of positive integers, got "${raw}".`);
  return values;
}

const settings = {
  /** Accounts per Stripe burst; each has a 20-event lifecycle. */
  accounts: Math.max(1, intEnv("BENCH_BILLING_ACCOUNTS", 50)),
  /** One burst per concurrency, each over its own accounts. */
  concurrency: listEnv("BENCH_BILLING_CONCURRENCY", [1, 16, 64]),
  replays: intEnv("BENCH_BILLING_REPLAYS", 100),
  /** Accounts of the Polar burst (10 events each); 0 skips it. */
  polarAccounts: intEnv("BENCH_BILLING_POLAR_ACCOUNTS", 10),
  polarConcurrency: Math.max(1, intEnv("BENCH_BILLING_POLAR_CONCURRENCY", 16)),
  maxSeconds: intEnv("BENCH_BILLING_MAX_SECONDS", 300),
  writeDocs: process.env.BENCH_WRITE_DOCS !== "0",
};

const STRIPE_EVENTS_PER_ACCOUNT = 20;
const POLAR_EVENTS_PER_ACCOUNT = 10;
/** Provider time between two events of one lifecycle: never two snapshots of one subscription in one second. */
const STEP_S = 300;
const DAY_S = 86_400;
const REQUEST_TIMEOUT_MS = 30_000;

// ---------------------------------------------------------------------------------------------
// The stack

interface Stack extends BenchStack {
  /** Handling times inside the runtime since the last call (see timeHttpActions). */
  handling(): number[];
  stripeSecret: string;
  polarSecret: string;
}

async function startStack(): Promise<Stack> {
  // The simulator stands behind every provider URL of the dev env (mail for the payment-failed
  // alerts, Stripe for a re-fetch); nothing on the webhook path calls it.
  const stack = await startBenchStack({ name: "billing" });
  return {
    ...stack,
    handling: timeHttpActions(stack.runtime),
    // The secrets the runtime checks against: whatever dev/env.ts gives it.
    stripeSecret: stack.env.STRIPE_WEBHOOK_SECRET,
    polarSecret: stack.env.POLAR_WEBHOOK_SECRET,
  };
}

/**
 * Times each httpAction inside the runtime, from the site server handing the request to the
 * engine (`runtime.engine.fetch`, which the server calls for every site request) to the
 * handler's Response: signature check, normalisation, the one mutation (including its wait for
 * the runtime's one-mutation-at-a-time lock). Returns a function that takes the times so far.
 */
function timeHttpActions(runtime: Runtime): () => number[] {
  const engine = runtime.engine;
  const original = engine.fetch.bind(engine);
  let times: number[] = [];
  engine.fetch = (...args: Parameters<typeof original>) => {
    const started = performance.now();
    const handle = original(...args);
    handle.response.then(
      () => times.push(performance.now() - started),
      () => undefined,
    );
    return handle;
  };
  return () => {
    const taken = times;
    times = [];
    return taken;
  };
}

/** One inline mutation on the runtime's database, returning what `read` returns. */
async function inline<T>(runtime: Runtime, read: (ctx: InlineCtx) => Promise<T>): Promise<T> {
  let out: T | undefined;
  await runtime.engine.runInline(async (ctx) => {
    out = await read(ctx);
  });
  return out as T;
}

const refs = { createAccount: asAdmin(internal.cli.createAccount) };

async function createAccounts(stack: Stack, label: string, count: number): Promise<string[]> {
  const client = new ConvexHttpClient(stack.runtime.urls.cloud);
  // Not in the public typings, but the supported way to call internal functions as admin.
  (client as unknown as { setAdminAuth(key: string): void }).setAdminAuth(stack.runtime.adminKey);
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    ids.push(await client.mutation(refs.createAccount, { email: `billing-${label}-${i}@example.com` }));
  }
  return ids;
}

/**
 * What `billing.checkout.start` stores before it redirects to Stripe Checkout: the account's
 * Stripe customer (users.stripeCustomerId, billingProvider and the billingCustomers row the
 * webhooks find the account by).
 */
async function linkStripeCustomers(stack: Stack, accounts: StripeAccount[]): Promise<void> {
  await stack.runtime.engine.runInline(async (ctx) => {
    for (const a of accounts) {
      await ctx.db.patch(a.userId, { billingProvider: "stripe", stripeCustomerId: a.customer });
      await ctx.db.insert("billingCustomers", { userId: a.userId, provider: "stripe", customerId: a.customer, createdAt: Date.now() });
    }
  });
}

// ---------------------------------------------------------------------------------------------
// The events

type Provider = "stripe" | "polar";

interface Delivery {
  provider: Provider;
  /** Stripe's event.id; Polar's webhook-id. */
  id: string;
  type: string;
  /** The exact bytes that are signed and sent. */
  body: string;
  account: number;
}

/** How a lifecycle ends, and the state it leaves. */
interface Expected {
  state: string;
  plan: string;
  subscription: { status: string; ended: boolean; cancelAtPeriodEnd: boolean };
  /** Provider invoice (Stripe) or order (Polar) id -> status. */
  invoices: Record<string, string>;
  deprovisionRequests: number;
}

interface StripeAccount {
  index: number;
  userId: string;
  customer: string;
  subscription: string;
  ending: StripeEnding;
}

const STRIPE_ENDINGS = ["canceled", "cancels_at_period_end", "past_due"] as const;
type StripeEnding = (typeof STRIPE_ENDINGS)[number];

/**
 * One account's Stripe life, 20 events at their provider times (`t0` + 5 min per step): the
 * customer, a paid checkout on Basic, the subscription, an upgrade to Pro in the portal, a
 * renewal whose payment fails twice then recovers, another renewal; then one of three endings.
 */
function stripeLifecycle(a: StripeAccount, prefix: string, t0: number): { deliveries: Delivery[]; expected: Expected } {
  const price = DEV_BILLING_PRICES.stripe;
  const period = (k: number) => t0 - (3 - k) * 30 * DAY_S;
  const at = (k: number) => t0 + k * STEP_S;
  const sub = (over: Partial<StripeSubscriptionOptions> = {}) =>
    stripeSubscription({
      id: a.subscription,
      customer: a.customer,
      price: price.basic,
      periodStart: period(0),
      metadata: { userId: a.userId, plan: "basic" },
      ...over,
    });
  const inv = (n: number) => `in_${prefix}_${n}`;
  const invoice = (n: number, k: number, cents: number, status: "paid" | "open" = "paid") =>
    stripeInvoice({ id: inv(n), customer: a.customer, subscription: a.subscription, status, amount: cents, created: at(k), hostedUrl: status === "paid" ? undefined : null });
  const customer = (email: string) => ({ id: a.customer, object: "customer", email, metadata: { userId: a.userId } });
  const cancelAt = period(3) + 30 * DAY_S;
  const steps: Array<[string, unknown]> = [
    ["customer.created", customer(`billing-${prefix}@example.com`)],
    [
      "checkout.session.completed",
      stripeCheckoutSession({ id: `cs_${prefix}`, customer: a.customer, subscription: a.subscription, userId: a.userId, plan: "basic" }),
    ],
    ["customer.subscription.created", sub()],
    ["invoice.paid", invoice(1, 3, 5_000)],
    ["customer.subscription.updated", sub({ price: price.pro })], // upgraded in the portal
    ["invoice.paid", invoice(2, 5, 20_000)], // the proration
    ["customer.subscription.updated", sub({ price: price.pro, periodStart: period(1) })], // renewed
    ["invoice.payment_failed", invoice(3, 7, 25_000, "open")],
    ["customer.subscription.updated", sub({ price: price.pro, periodStart: period(1), status: "past_due" })],
    ["invoice.payment_failed", invoice(3, 7, 25_000, "open")], // Smart Retries: failed again
    ["invoice.paid", invoice(3, 7, 25_000)], // the customer fixed the card
    ["customer.subscription.updated", sub({ price: price.pro, periodStart: period(1) })], // recovered
    ["customer.subscription.updated", sub({ price: price.pro, periodStart: period(2) })], // renewed
    ["invoice.paid", invoice(4, 13, 25_000)],
  ];
  const invoices: Record<string, string> = { [inv(1)]: "paid", [inv(2)]: "paid", [inv(3)]: "paid", [inv(4)]: "paid" };
  let expected: Omit<Expected, "invoices">;
  if (a.ending === "canceled") {
    // Downgraded, renewed on Basic, cancels at period end, changes their mind twice, then ends it at once.
    steps.push(
      ["customer.subscription.updated", sub({ periodStart: period(3) })],
      ["invoice.paid", invoice(5, 15, 5_000)],
      ["customer.subscription.updated", sub({ periodStart: period(3), cancelAtPeriodEnd: true, cancelAt })],
      ["customer.subscription.updated", sub({ periodStart: period(3) })],
      ["customer.subscription.updated", sub({ periodStart: period(3), cancelAtPeriodEnd: true, cancelAt })],
      ["customer.subscription.deleted", sub({ periodStart: period(3), status: "canceled", endedAt: at(19) })],
    );
    invoices[inv(5)] = "paid";
    expected = { state: "canceled", plan: "basic", subscription: { status: "canceled", ended: true, cancelAtPeriodEnd: false }, deprovisionRequests: 1 };
  } else if (a.ending === "cancels_at_period_end") {
    steps.push(
      ["customer.subscription.updated", sub({ price: price.pro, periodStart: period(3) })],
      ["invoice.paid", invoice(5, 15, 25_000)],
      ["customer.subscription.updated", sub({ price: price.pro, periodStart: period(3), cancelAtPeriodEnd: true, cancelAt })],
      ["customer.subscription.updated", sub({ price: price.pro, periodStart: period(3) })],
      ["customer.subscription.updated", sub({ price: price.pro, periodStart: period(3), cancelAtPeriodEnd: true, cancelAt })],
      ["customer.updated", customer(`billing-${prefix}-new@example.com`)],
    );
    invoices[inv(5)] = "paid";
    expected = { state: "active", plan: "pro", subscription: { status: "active", ended: false, cancelAtPeriodEnd: true }, deprovisionRequests: 0 };
  } else {
    // Renewed, and this time the payment keeps failing: the grace period is running.
    steps.push(
      ["customer.subscription.updated", sub({ price: price.pro, periodStart: period(3) })],
      ["invoice.payment_failed", invoice(5, 15, 25_000, "open")],
      ["customer.subscription.updated", sub({ price: price.pro, periodStart: period(3), status: "past_due" })],
      ["invoice.payment_failed", invoice(5, 15, 25_000, "open")],
      ["customer.updated", customer(`billing-${prefix}-new@example.com`)],
      ["invoice.payment_failed", invoice(5, 15, 25_000, "open")],
    );
    invoices[inv(5)] = "payment_failed";
    expected = { state: "past_due", plan: "pro", subscription: { status: "past_due", ended: false, cancelAtPeriodEnd: false }, deprovisionRequests: 0 };
  }
  if (steps.length !== STRIPE_EVENTS_PER_ACCOUNT) throw new Error(`a Stripe lifecycle has ${steps.length} events`);
  const deliveries = steps.map(([type, object], k): Delivery => {
    const id = `evt_${prefix}_${String(k).padStart(2, "0")}`;
    return { provider: "stripe", id, type, body: JSON.stringify(stripeEvent(type, object, at(k), id)), account: a.index };
  });
  return { deliveries, expected: { ...expected, invoices } };
}

interface PolarAccount {
  index: number;
  userId: string;
  customer: string;
  subscription: string;
  revoked: boolean;
}

let uuidSeq = 0;
/** A UUID-shaped id, unique in this run (Polar's ids are UUIDs). */
const uuid = (head: string) => `${head}-0000-4000-8000-${(++uuidSeq).toString(16).padStart(12, "0")}`;

/**
 * One account's Polar life, 10 events (`t0` + 5 min per step, `modified_at` the ordering key): a
 * checkout on Basic (created, active, the order), an upgrade to Pro, a failed renewal recovered,
 * the renewal's order, a cancellation at period end; then revoked, or uncanceled.
 */
function polarLifecycle(a: PolarAccount, t0Ms: number): { deliveries: Delivery[]; expected: Expected } {
  const product = DEV_BILLING_PRICES.polar;
  const at = (k: number) => t0Ms + k * STEP_S * 1000;
  const periodStart = t0Ms - 30 * DAY_S * 1000;
  const endsAt = t0Ms + 30 * DAY_S * 1000;
  const sub = (k: number, over: Partial<PolarSubscriptionOptions> = {}) =>
    polarSubscription({ id: a.subscription, customerId: a.customer, externalId: a.userId, productId: product.basic, periodStart, modifiedAt: at(k), ...over });
  const orderIds = [uuid("0d000000"), uuid("0d000000")];
  const order = (n: number, k: number, cents: number) =>
    polarOrder({ id: orderIds[n], subscriptionId: a.subscription, externalId: a.userId, customerId: a.customer, amount: cents, createdAt: at(k) });
  const steps: Array<[string, unknown]> = [
    ["subscription.created", sub(0)],
    ["subscription.active", sub(1)],
    ["order.created", { ...order(0, 2, 5_000), status: "pending", paid: false }],
    ["order.paid", order(0, 2, 5_000)],
    ["subscription.updated", sub(4, { productId: product.pro })],
    ["subscription.past_due", sub(5, { productId: product.pro, status: "past_due" })],
    ["subscription.updated", sub(6, { productId: product.pro })],
    ["order.paid", order(1, 7, 25_000)],
    ["subscription.canceled", sub(8, { productId: product.pro, cancelAtPeriodEnd: true, endsAt })],
    a.revoked
      ? ["subscription.revoked", sub(9, { productId: product.pro, status: "canceled", cancelAtPeriodEnd: true, endsAt, endedAt: at(9) })]
      : ["subscription.uncanceled", sub(9, { productId: product.pro })],
  ];
  if (steps.length !== POLAR_EVENTS_PER_ACCOUNT) throw new Error(`a Polar lifecycle has ${steps.length} events`);
  const deliveries = steps.map(([type, data], k): Delivery => ({
    provider: "polar",
    id: `msg_${uuid("5e000000").replace(/-/g, "")}`,
    type,
    body: JSON.stringify(polarEvent(type, data, at(k))),
    account: a.index,
  }));
  const invoices = { [orderIds[0]]: "paid", [orderIds[1]]: "paid" };
  const expected: Expected = a.revoked
    ? { state: "canceled", plan: "pro", subscription: { status: "canceled", ended: true, cancelAtPeriodEnd: true }, invoices, deprovisionRequests: 1 }
    : { state: "active", plan: "pro", subscription: { status: "active", ended: false, cancelAtPeriodEnd: false }, invoices, deprovisionRequests: 0 };
  return { deliveries, expected };
}

/** Provider time order: every account's first event, then every account's second, and so on. */
function interleave(lifecycles: Delivery[][]): Delivery[] {
  const out: Delivery[] = [];
  const longest = Math.max(0, ...lifecycles.map((l) => l.length));
  for (let k = 0; k < longest; k++) for (const l of lifecycles) if (k < l.length) out.push(l[k]);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Sending

interface Answer {
  received?: boolean;
  status?: "applied" | "ignored" | "failed";
  outcome?: string;
  replayed?: boolean;
  error?: string;
}

/** The provider's signature headers for `d`, made now (each delivery is signed when it is sent). */
function signedHeaders(stack: Stack, d: Delivery): Record<string, string> {
  const nowS = Math.floor(Date.now() / 1000);
  if (d.provider === "stripe") {
    return {
      "content-type": "application/json",
      "stripe-signature": Stripe.webhooks.generateTestHeaderString({ payload: d.body, secret: stack.stripeSecret, timestamp: nowS }),
    };
  }
  // The development secret is not a whsec_ (base64) one: it keys the HMAC with its UTF-8 bytes.
  const signer = new Webhook(new TextEncoder().encode(stack.polarSecret), { format: "raw" });
  return {
    "content-type": "application/json",
    "webhook-id": d.id,
    "webhook-timestamp": String(nowS),
    "webhook-signature": signer.sign(d.id, new Date(nowS * 1000), d.body),
  };
}

/** Signs `d`, then POSTs it, timed from the request to the answer's last byte. */
async function send(stack: Stack, d: Delivery): Promise<{ sample: Sample; answer: Answer | null }> {
  const url = `${stack.runtime.urls.site}/webhooks/${d.provider}`;
  const headers = signedHeaders(stack, d);
  const started = performance.now();
  try {
    const response = await fetch(url, { method: "POST", headers, body: d.body, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    const text = await response.text();
    const latencyMs = performance.now() - started;
    let answer: Answer | null = null;
    try {
      answer = JSON.parse(text) as Answer;
    } catch {
      answer = null;
    }
    const ok = response.status === 200 && answer?.received === true;
    return { sample: { ok, status: response.status, latencyMs, ttfbMs: latencyMs, ...(ok ? {} : { error: text.slice(0, 300) }) }, answer };
  } catch (error) {
    const latencyMs = performance.now() - started;
    return { sample: { ok: false, status: 0, latencyMs, ttfbMs: latencyMs, error: (error as Error).message }, answer: null };
  }
}

interface BurstResult {
  samples: Sample[];
  answers: (Answer | null)[];
  /** In-runtime handling times of the burst's requests (engine.fetch -> Response), ms. */
  handling: number[];
  wallMs: number;
  truncated: boolean;
}

async function burst(stack: Stack, deliveries: Delivery[], concurrency: number, deadline: number): Promise<BurstResult> {
  const answers: (Answer | null)[] = new Array(deliveries.length).fill(null);
  stack.handling();
  const result = await runLoad({
    total: deliveries.length,
    concurrency,
    deadline,
    send: async (i) => {
      const { sample, answer } = await send(stack, deliveries[i]);
      answers[i] = answer;
      return sample;
    },
  });
  return { ...result, answers, handling: stack.handling() };
}

// ---------------------------------------------------------------------------------------------
// Reading back

async function settledMetrics(runtime: Runtime): Promise<Metrics> {
  const total = (m: Metrics) => Object.values(m.functionCalls).reduce((a, b) => a + b, 0) + m.documentsWritten;
  let last = runtime.metrics();
  const until = Date.now() + 5_000;
  while (Date.now() < until) {
    await new Promise((r) => setTimeout(r, 300));
    const now = runtime.metrics();
    if (total(now) === total(last)) return now;
    last = now;
  }
  return last;
}

interface EventRow {
  provider: string;
  eventId: string;
  status?: string;
  outcome: string;
}

async function webhookRows(runtime: Runtime): Promise<EventRow[]> {
  return await inline(runtime, async (ctx) => {
    const rows = (await ctx.db.query("webhookEvents").collect()) as EventRow[];
    return rows.map((r) => ({ provider: r.provider, eventId: r.eventId, status: r.status, outcome: r.outcome }));
  });
}

interface AccountState {
  state: string;
  plan: string;
  subscriptions: { status: string; ended: boolean; cancelAtPeriodEnd: boolean }[];
  invoices: Record<string, string>;
  deprovisionRequests: number;
}

async function accountStates(runtime: Runtime, userIds: string[]): Promise<AccountState[]> {
  return await inline(runtime, async (ctx) => {
    const out: AccountState[] = [];
    for (const userId of userIds) {
      const user = (await ctx.db.get(userId)) as { state: string; plan: string };
      const subscriptions = await ctx.db
        .query("subscriptions")
        .withIndex("by_userId", (q) => q.eq("userId", userId))
        .collect();
      const invoices = await ctx.db
        .query("invoices")
        .withIndex("by_userId_and_createdAt", (q) => q.eq("userId", userId))
        .collect();
      const deprovision = await ctx.db
        .query("deprovisionRequests")
        .withIndex("by_userId", (q) => q.eq("userId", userId))
        .collect();
      out.push({
        state: user.state,
        plan: user.plan,
        subscriptions: subscriptions.map((s: { status: string; ended: boolean; cancelAtPeriodEnd: boolean }) => ({
          status: s.status,
          ended: s.ended,
          cancelAtPeriodEnd: s.cancelAtPeriodEnd,
        })),
        invoices: Object.fromEntries(invoices.map((i: { providerInvoiceId: string; status: string }) => [i.providerInvoiceId, i.status])),
        deprovisionRequests: deprovision.length,
      });
    }
    return out;
  });
}

function mismatch(actual: AccountState, expected: Expected): string | null {
  const wrong: string[] = [];
  if (actual.state !== expected.state) wrong.push(`state ${actual.state}, expected ${expected.state}`);
  if (actual.plan !== expected.plan) wrong.push(`plan ${actual.plan}, expected ${expected.plan}`);
  const sub = actual.subscriptions;
  if (sub.length !== 1) wrong.push(`${sub.length} subscription rows`);
  else if (JSON.stringify(sub[0]) !== JSON.stringify(expected.subscription)) {
    wrong.push(`subscription ${JSON.stringify(sub[0])}, expected ${JSON.stringify(expected.subscription)}`);
  }
  const invoices = (o: Record<string, string>) => JSON.stringify(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
  if (invoices(actual.invoices) !== invoices(expected.invoices)) wrong.push(`invoices ${invoices(actual.invoices)}, expected ${invoices(expected.invoices)}`);
  if (actual.deprovisionRequests !== expected.deprovisionRequests) wrong.push(`${actual.deprovisionRequests} deprovisioning requests`);
  return wrong.length ? wrong.join("; ") : null;
}

/** Everything a billing webhook can write: row counts and a digest of every row, per table. */
const BILLING_TABLES = ["webhookEvents", "subscriptions", "invoices", "billingCustomers", "deprovisionRequests", "alerts", "auditLogs", "users"];

async function billingDigest(runtime: Runtime): Promise<Record<string, { rows: number; sha256: string }>> {
  return await inline(runtime, async (ctx) => {
    const out: Record<string, { rows: number; sha256: string }> = {};
    for (const table of BILLING_TABLES) {
      const rows = await ctx.db.query(table).collect();
      const text = rows.map((r) => JSON.stringify(r)).sort().join("\n");
      out[table] = { rows: rows.length, sha256: createHash("sha256").update(text).digest("hex") };
    }
    return out;
  });
}

// ---------------------------------------------------------------------------------------------
// One burst, checked

interface PhaseResult {
  name: string;
  provider: Provider;
  accounts: number;
  concurrency: number;
  deliveries: Delivery[];
  burst: BurstResult;
  work: { functionCalls: number; documentsRead: number; documentsWritten: number } | null;
  /** From the answers: replayed must be false for every event of a first delivery. */
  answered: { applied: number; ignored: number; failed: number; replayed: number };
  /** Event ids of this burst with exactly one webhookEvents row / none / more than one. */
  once: number;
  missing: number;
  duplicated: number;
  /** Outcome -> count of this burst's events recorded as ignored. */
  ignoredWhy: Record<string, number>;
  finalOk: number;
  finalWrong: string[];
}

function countAnswers(answers: (Answer | null)[]) {
  const c = { applied: 0, ignored: 0, failed: 0, replayed: 0 };
  for (const a of answers) {
    if (a?.replayed) c.replayed++;
    if (a?.status === "applied" || a?.status === "ignored" || a?.status === "failed") c[a.status]++;
  }
  return c;
}

async function runPhase(
  stack: Stack,
  p: { name: string; provider: Provider; concurrency: number; userIds: string[]; deliveries: Delivery[]; expected: Expected[] },
  deadline: number,
): Promise<PhaseResult> {
  const before = await settledMetrics(stack.runtime);
  const result = await burst(stack, p.deliveries, p.concurrency, deadline);
  const after = await settledMetrics(stack.runtime);
  const calls = (m: Metrics) => Object.values(m.functionCalls).reduce((a, b) => a + b, 0);
  const n = result.samples.length;
  const work = n
    ? {
        functionCalls: (calls(after) - calls(before)) / n,
        documentsRead: (after.documentsRead - before.documentsRead) / n,
        documentsWritten: (after.documentsWritten - before.documentsWritten) / n,
      }
    : null;

  const rows = await webhookRows(stack.runtime);
  const perId = new Map<string, number>();
  const ids = new Set(p.deliveries.map((d) => d.id));
  const ignoredWhy: Record<string, number> = {};
  for (const r of rows) {
    if (r.provider !== p.provider) continue;
    perId.set(r.eventId, (perId.get(r.eventId) ?? 0) + 1);
    if (ids.has(r.eventId) && r.status === "ignored") ignoredWhy[r.outcome] = (ignoredWhy[r.outcome] ?? 0) + 1;
  }
  let once = 0;
  let missing = 0;
  let duplicated = 0;
  for (const d of p.deliveries) {
    const count = perId.get(d.id) ?? 0;
    if (count === 1) once++;
    else if (count === 0) missing++;
    else duplicated++;
  }

  const states = await accountStates(stack.runtime, p.userIds);
  const finalWrong: string[] = [];
  states.forEach((s, i) => {
    const why = mismatch(s, p.expected[i]);
    if (why) finalWrong.push(`${p.name}, account ${i}: ${why}`);
  });
  return {
    name: p.name,
    provider: p.provider,
    accounts: p.userIds.length,
    concurrency: p.concurrency,
    deliveries: p.deliveries,
    burst: result,
    work,
    answered: countAnswers(result.answers),
    once,
    missing,
    duplicated,
    ignoredWhy,
    finalOk: states.length - finalWrong.length,
    finalWrong,
  };
}

async function stripePhase(stack: Stack, run: string, n: number, concurrency: number, deadline: number): Promise<PhaseResult> {
  const label = `${run}-s${n}`;
  const userIds = await createAccounts(stack, label, settings.accounts);
  const accounts: StripeAccount[] = userIds.map((userId, index) => ({
    index,
    userId,
    customer: `cus_${label}_${index}`.replace(/-/g, "_"),
    subscription: `sub_${label}_${index}`.replace(/-/g, "_"),
    ending: STRIPE_ENDINGS[index % STRIPE_ENDINGS.length],
  }));
  await linkStripeCustomers(stack, accounts);
  // Provider times from three hours ago, so a grace period started here ends in a week.
  const t0 = Math.floor(Date.now() / 1000) - 3 * 3600;
  const lives = accounts.map((a) => stripeLifecycle(a, `${label}_${a.index}`.replace(/-/g, "_"), t0));
  return await runPhase(
    stack,
    {
      name: `Stripe, ${concurrency} at a time`,
      provider: "stripe",
      concurrency,
      userIds,
      deliveries: interleave(lives.map((l) => l.deliveries)),
      expected: lives.map((l) => l.expected),
    },
    deadline,
  );
}

async function polarPhase(stack: Stack, run: string, deadline: number): Promise<PhaseResult> {
  const label = `${run}-p`;
  const userIds = await createAccounts(stack, label, settings.polarAccounts);
  // No customer linked beforehand: Polar's checkout carries external_customer_id (our user id),
  // and the first event links the customer it names.
  const accounts: PolarAccount[] = userIds.map((userId, index) => ({
    index,
    userId,
    customer: uuid("c0000000"),
    subscription: uuid("5b000000"),
    revoked: index % 2 === 0,
  }));
  const t0Ms = Date.now() - 3 * 3600 * 1000;
  const lives = accounts.map((a) => polarLifecycle(a, t0Ms));
  return await runPhase(
    stack,
    {
      name: `Polar, ${settings.polarConcurrency} at a time`,
      provider: "polar",
      concurrency: settings.polarConcurrency,
      userIds,
      deliveries: interleave(lives.map((l) => l.deliveries)),
      expected: lives.map((l) => l.expected),
    },
    deadline,
  );
}

interface ReplayResult {
  sent: number;
  burst: BurstResult;
  /** 200 with replayed: true and the status first recorded. */
  replayedOk: number;
  wrong: string[];
  before: Record<string, { rows: number; sha256: string }>;
  after: Record<string, { rows: number; sha256: string }>;
  changedTables: string[];
}

/** `count` events spread evenly over `pool`, delivered again: same body and id, signed anew. */
async function replay(stack: Stack, pool: Delivery[], count: number, deadline: number): Promise<ReplayResult> {
  const n = Math.min(count, pool.length);
  const picked = Array.from({ length: n }, (_, i) => pool[Math.floor((i * pool.length) / n)]);
  const recorded = new Map((await webhookRows(stack.runtime)).map((r) => [`${r.provider}:${r.eventId}`, r.status]));
  await settledMetrics(stack.runtime);
  const before = await billingDigest(stack.runtime);
  const result = await burst(stack, picked, 16, deadline);
  await settledMetrics(stack.runtime);
  const after = await billingDigest(stack.runtime);
  const wrong: string[] = [];
  let replayedOk = 0;
  picked.forEach((d, i) => {
    const a = result.answers[i];
    const status = recorded.get(`${d.provider}:${d.id}`);
    if (a?.replayed === true && a.status === status) replayedOk++;
    else wrong.push(`${d.provider} ${d.id}: answered ${a === null ? "nothing (not sent, or not JSON)" : JSON.stringify(a)}, first recorded ${status}`);
  });
  const changedTables = BILLING_TABLES.filter((t) => before[t].sha256 !== after[t].sha256 || before[t].rows !== after[t].rows);
  return { sent: picked.length, burst: result, replayedOk, wrong, before, after, changedTables };
}

// ---------------------------------------------------------------------------------------------
// The report

const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : "n/a");
const f0 = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : "n/a");

function latencies(b: BurstResult) {
  const ok = b.samples.filter((s) => s.ok).map((s) => s.latencyMs);
  return {
    ok: ok.length,
    sent: b.samples.length,
    p50: percentile(ok, 50),
    p90: percentile(ok, 90),
    p99: percentile(ok, 99),
    max: ok.length ? Math.max(...ok) : Number.NaN,
    perSecond: ok.length / (b.wallMs / 1000),
    handlingP50: percentile(b.handling, 50),
    handlingP99: percentile(b.handling, 99),
  };
}

function phaseRow(p: PhaseResult): string {
  const l = latencies(p.burst);
  const a = p.answered;
  const truncated = p.burst.truncated ? " (deadline)" : "";
  return (
    `| ${p.name} | ${p.accounts} | ${l.ok}/${p.deliveries.length}${truncated} | ${f1(l.p50)} / ${f1(l.p90)} / **${f1(l.p99)}** | ${f1(l.max)} | ${f1(l.handlingP50)} / ${f1(l.handlingP99)} | ` +
    `**${f0(l.perSecond)}** | ${a.applied} / ${a.ignored} / ${a.failed} | **${p.once}/${p.deliveries.length}**${p.duplicated ? ` (${p.duplicated} twice)` : ""} | ${p.finalOk}/${p.accounts} |`
  );
}

function ignoredLine(p: PhaseResult): string {
  const why = Object.entries(p.ignoredWhy).sort(([, x], [, y]) => y - x);
  return `- ${p.name}: ${why.map(([outcome, n]) => `${n} \`${outcome}\``).join(", ") || "none"}`;
}

function workRow(p: PhaseResult): string {
  if (!p.work) return `| ${p.name} | n/a | n/a | n/a |`;
  return `| ${p.name} | ${p.work.functionCalls.toFixed(2)} | ${p.work.documentsRead.toFixed(1)} | ${p.work.documentsWritten.toFixed(1)} |`;
}

interface Results {
  startedAt: Date;
  loadAverage: number;
  phases: PhaseResult[];
  replay: ReplayResult | null;
  polarReplay: ReplayResult | null;
  /** Rows of webhookEvents against distinct events sent, over the whole run. */
  totalRows: number;
  totalSent: number;
}

function replayRow(name: string, r: ReplayResult): string {
  const l = latencies(r.burst);
  const changed = r.changedTables.length ? `changed: ${r.changedTables.join(", ")}` : "none changed";
  return (
    `| ${name} | ${r.sent} | **${r.replayedOk}/${r.sent}** | ${f1(l.p50)} / ${f1(l.p99)} | ${f1(l.handlingP50)} / ${f1(l.handlingP99)} | ${f0(l.perSecond)} | ` +
    `${r.before.webhookEvents.rows} -> ${r.after.webhookEvents.rows} | **${changed}** |`
  );
}

function problems(r: Results): string[] {
  const out: string[] = [];
  for (const p of r.phases) {
    const l = latencies(p.burst);
    if (l.ok !== p.deliveries.length) {
      const first = p.burst.samples.find((s) => !s.ok);
      out.push(`${p.name}: ${p.deliveries.length - l.ok} events not answered 200${first ? ` (first: ${first.status} ${first.error ?? ""})` : ""}`);
    }
    if (p.missing || p.duplicated) out.push(`${p.name}: ${p.missing} events without a webhookEvents row, ${p.duplicated} with more than one`);
    if (p.answered.replayed) out.push(`${p.name}: ${p.answered.replayed} first deliveries answered replayed`);
    if (p.answered.failed) out.push(`${p.name}: ${p.answered.failed} events recorded as failed`);
    out.push(...p.finalWrong.slice(0, 5));
    if (p.finalWrong.length > 5) out.push(`${p.name}: and ${p.finalWrong.length - 5} more accounts not in their expected state`);
  }
  for (const [name, rep] of [
    ["Stripe replay", r.replay],
    ["Polar replay", r.polarReplay],
  ] as const) {
    if (!rep) continue;
    out.push(...rep.wrong.slice(0, 5).map((w) => `${name}: ${w}`));
    if (rep.changedTables.length) out.push(`${name}: changed ${rep.changedTables.join(", ")}`);
  }
  if (r.totalRows !== r.totalSent) out.push(`webhookEvents holds ${r.totalRows} rows for ${r.totalSent} distinct events sent`);
  return out;
}

function render(r: Results): string {
  const cpus = os.cpus();
  const stripePhases = r.phases.filter((p) => p.provider === "stripe");
  const stripeEvents = stripePhases.reduce((n, p) => n + p.deliveries.length, 0);
  const issues = problems(r);
  return `## Billing webhooks (\`npm run bench:billing\`)

How fast the billing webhooks take a burst, and that every event is applied exactly once. Per
Stripe burst, ${settings.accounts} accounts each go through a realistic subscription life, ${STRIPE_EVENTS_PER_ACCOUNT} events per
account (${settings.accounts * STRIPE_EVENTS_PER_ACCOUNT} distinct events): \`customer.created\`, \`checkout.session.completed\` (paid, Basic),
\`customer.subscription.created\`, \`invoice.paid\`, an upgrade to Pro in the portal (\`updated\`) and its
proration \`invoice.paid\`, a renewal (\`updated\`) whose \`invoice.payment_failed\` turns the subscription
\`past_due\`, a second failure, then \`invoice.paid\` and \`updated\` back to active, another renewal and
its invoice; then one of three endings, by account: downgraded, cancel at period end, undone,
canceled again, then \`customer.subscription.deleted\` (canceled); renewed, cancel at period end,
undone, again, \`customer.updated\` (active, cancels at period end); renewed, then the payment keeps
failing (past_due, grace period running). The events come from the builders of
\`convex/model/billing/providerEvents.setup.ts\`, with the development price ids, provider times
5 minutes apart (never two snapshots of one subscription in the same second), in provider-time
order across accounts (every account's first event, then every account's second, ...). Each is
signed with stripe-node's \`generateTestHeaderString\` and the \`STRIPE_WEBHOOK_SECRET\` the runtime
has, when it is sent, and POSTed to \`/webhooks/stripe\` with at most N requests in flight, so two
events of one account can be in flight at once (one applied after a newer one of its
subscription would show as \`stale\` among the ignored outcomes below).
${r.phases.some((p) => p.provider === "polar") ? `The Polar burst is ${settings.polarAccounts} accounts of ${POLAR_EVENTS_PER_ACCOUNT} events (\`subscription.created\`, \`.active\`, \`order.created\`,
\`order.paid\`, an upgrade, \`.past_due\`, recovered, the renewal's \`order.paid\`, \`.canceled\`, then
\`.revoked\` or \`.uncanceled\`), linked by \`external_customer_id\` only, signed with the standardwebhooks
signer keyed by the UTF-8 bytes of the development \`POLAR_WEBHOOK_SECRET\`, to \`/webhooks/polar\`.
` : ""}
Run: ${r.startedAt.toISOString()} (simulator and offline runtime started by the benchmark, in its process).
Machine: ${cpus.length} cores, ${cpus[0]?.model.trim() ?? "unknown"}, ${Math.round(os.totalmem() / 2 ** 30)} GB, ${os.type()} ${os.release()} ${os.arch()}, Node ${process.version};
1-minute load average ${r.loadAverage.toFixed(1)} when the run started (other work on the machine counts too).
Setup: the runtime with the development env (\`dev/env.ts\`); accounts created with the admin
key (\`cli.createAccount\`), each Stripe account's customer linked as checkout links it; one
warm-up lifecycle (${STRIPE_EVENTS_PER_ACCOUNT} events, one at a time) first, not counted; then one burst per
concurrency, each over its own ${settings.accounts} new accounts. Request latency is one request as the
sender sees it, from sending it to the last byte of the answer (signing is outside the timer);
in-runtime is the same request inside the runtime, from the site server handing it to the engine
to the handler's Response (signature check, normalisation, the one mutation and its wait for the
runtime's mutation lock); events/s is the events answered 200 over the burst's wall time.

| burst | accounts | answered 200 | request p50 / p90 / p99 ms | max ms | in-runtime p50 / p99 ms | events/s | applied / ignored / failed | one \`webhookEvents\` row | accounts in the expected state |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
${r.phases.map(phaseRow).join("\n")}

Exactly once: after each burst, the \`webhookEvents\` rows are counted per event id (each must
have exactly one) and every account is compared with the state its lifecycle ends in: account
state and plan, the one subscription row (status, ended, cancel at period end), every invoice's
status, the deprovisioning request of a deleted subscription. "ignored" events are recorded and
change nothing by design; why (the \`outcome\` of their rows), per burst:

${r.phases.map(ignoredLine).join("\n")}

Over the whole run: ${r.totalRows} \`webhookEvents\` rows for ${r.totalSent} distinct events sent
(${stripeEvents} Stripe events in the measured bursts).

Replay: ${settings.replays} of the Stripe events, spread over all the bursts${r.polarReplay ? `, and ${r.polarReplay.sent} of the Polar ones` : ""}, sent
again with the same body and event id and a fresh signature, 16 at a time. Each must answer
200 \`replayed: true\` with the status first recorded, and nothing may change: row count and a
SHA-256 of every row of
${BILLING_TABLES.slice(0, 5).map((t) => `\`${t}\``).join(", ")},
${BILLING_TABLES.slice(5).map((t) => `\`${t}\``).join(", ")}, before and after.

| replay | sent | 200 replayed, same status | request p50 / p99 ms | in-runtime p50 / p99 ms | events/s | \`webhookEvents\` rows | billing tables |
| --- | --- | --- | --- | --- | --- | --- | --- |
${[r.replay ? replayRow("Stripe", r.replay) : null, r.polarReplay ? replayRow("Polar", r.polarReplay) : null].filter(Boolean).join("\n")}

Convex work per event (the runtime's \`/_dev/metrics\` counters, delta over the burst / events
sent, read once scheduled work had drained): the \`httpAction\` and its one \`events.record\`
mutation. The grace period's scheduled end is a week away and does not run during the benchmark.

| burst | function calls | documents read | documents written |
| --- | --- | --- | --- |
${r.phases.map(workRow).join("\n")}

${issues.length ? `Problems:\n\n${issues.map((i) => `- ${i}`).join("\n")}` : "Problems: none (every event answered 200, one row each, every account as expected, replays changed nothing)."}

Reading these numbers: a webhook is verified in the \`httpAction\` and applied by ONE mutation. The
one-at-a-time row is the cost of one event. The benchmark and its HTTP client, the simulator, the
runtime's HTTP servers and the functions all run in one Node process, on one event loop, and the
offline runtime runs mutations one at a time, so the concurrent bursts are limited by that one
thread: events/s is its capacity, and a request's latency is mostly its wait for it (about
requests in flight divided by events/s), while the in-runtime time is what handling an event
costs under that load. Where the request p99 is far above its p90 (typically at 64 in flight),
a few requests waited while later ones were answered, outside the runtime's handling (compare the
in-runtime p99): the shared process's HTTP client and servers do not serve waiting requests in
the order they came. A Convex deployment verifies and applies events in parallel (events of
different accounts touch different rows), and the provider sends from its own machines. Variables: \`BENCH_BILLING_ACCOUNTS\` (50),
\`BENCH_BILLING_CONCURRENCY\` (1,16,64), \`BENCH_BILLING_REPLAYS\` (100), \`BENCH_BILLING_POLAR_ACCOUNTS\`
(10; 0 skips Polar), \`BENCH_BILLING_POLAR_CONCURRENCY\` (16), \`BENCH_BILLING_MAX_SECONDS\` (300),
\`BENCH_WRITE_DOCS\` (0 to only print). It always starts its own runtime (\`BENCH_URL\` does not apply).
Load only ever goes to loopback addresses.
`;
}

function printPhase(p: PhaseResult): void {
  const l = latencies(p.burst);
  console.log(
    `${p.name}: ${l.ok}/${p.deliveries.length} answered 200, p50 ${f1(l.p50)} ms, p90 ${f1(l.p90)} ms, p99 ${f1(l.p99)} ms, max ${f1(l.max)} ms, ` +
      `in-runtime p50 ${f1(l.handlingP50)} ms, p99 ${f1(l.handlingP99)} ms, ` +
      `${f0(l.perSecond)} events/s; applied ${p.answered.applied}, ignored ${p.answered.ignored}, failed ${p.answered.failed}, replayed ${p.answered.replayed}; ` +
      `rows: ${p.once} once, ${p.missing} missing, ${p.duplicated} duplicated; accounts as expected ${p.finalOk}/${p.accounts}; ` +
      `ignored: ${JSON.stringify(p.ignoredWhy)}` +
      (p.burst.truncated ? " (stopped by the deadline)" : ""),
  );
  for (const w of p.finalWrong.slice(0, 5)) console.log(`  ${w}`);
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const startedAt = new Date();
  const loadAverage = os.loadavg()[0];
  const deadline = Date.now() + settings.maxSeconds * 1000;
  console.log("Starting the provider simulator and the offline runtime...");
  const stack = await startStack();
  for (const url of [stack.runtime.urls.site, stack.runtime.urls.cloud, stack.sim.url]) assertLoopback(url);
  let failed = false;
  try {
    const run = Date.now().toString(36);

    // One account's lifecycle first, not counted: module loading and JIT warm-up.
    const warmAccounts = await createAccounts(stack, `${run}-warm`, 1);
    const warm: StripeAccount = { index: 0, userId: warmAccounts[0], customer: `cus_${run}_warm`, subscription: `sub_${run}_warm`, ending: "canceled" };
    await linkStripeCustomers(stack, [warm]);
    const warmLife = stripeLifecycle(warm, `${run}_warm`, Math.floor(Date.now() / 1000) - 3 * 3600);
    const warmRun = await burst(stack, warmLife.deliveries, 1, deadline);
    const warmFailure = warmRun.samples.find((s) => !s.ok);
    if (warmFailure) throw new Error(`The warm-up webhook failed: ${warmFailure.status} ${warmFailure.error ?? ""}`);
    const sent = new Set(warmLife.deliveries.map((d) => `stripe:${d.id}`));

    const phases: PhaseResult[] = [];
    for (const [n, concurrency] of settings.concurrency.entries()) {
      if (Date.now() >= deadline) {
        console.log(`Deadline of ${settings.maxSeconds}s reached; skipping the ${concurrency}-at-a-time burst.`);
        break;
      }
      console.log(`Stripe: ${settings.accounts} accounts, ${settings.accounts * STRIPE_EVENTS_PER_ACCOUNT} events, ${concurrency} at a time...`);
      const phase = await stripePhase(stack, run, n, concurrency, deadline);
      phases.push(phase);
      printPhase(phase);
    }
    if (settings.polarAccounts > 0 && Date.now() < deadline) {
      console.log(`Polar: ${settings.polarAccounts} accounts, ${settings.polarAccounts * POLAR_EVENTS_PER_ACCOUNT} events, ${settings.polarConcurrency} at a time...`);
      const phase = await polarPhase(stack, run, deadline);
      phases.push(phase);
      printPhase(phase);
    }
    for (const p of phases) for (const d of p.deliveries.slice(0, p.burst.samples.length)) sent.add(`${d.provider}:${d.id}`);

    const stripePool = phases.filter((p) => p.provider === "stripe").flatMap((p) => p.deliveries.slice(0, p.burst.samples.length));
    const polarPool = phases.filter((p) => p.provider === "polar").flatMap((p) => p.deliveries.slice(0, p.burst.samples.length));
    let stripeReplay: ReplayResult | null = null;
    let polarReplay: ReplayResult | null = null;
    if (settings.replays > 0 && stripePool.length > 0) {
      console.log(`Replaying ${Math.min(settings.replays, stripePool.length)} Stripe events...`);
      stripeReplay = await replay(stack, stripePool, settings.replays, deadline);
      console.log(`  ${stripeReplay.replayedOk}/${stripeReplay.sent} answered replayed; tables changed: ${stripeReplay.changedTables.join(", ") || "none"}`);
    }
    if (settings.replays > 0 && polarPool.length > 0) {
      const count = Math.max(1, Math.round(polarPool.length / 10));
      console.log(`Replaying ${count} Polar events...`);
      polarReplay = await replay(stack, polarPool, count, deadline);
      console.log(`  ${polarReplay.replayedOk}/${polarReplay.sent} answered replayed; tables changed: ${polarReplay.changedTables.join(", ") || "none"}`);
    }

    const totalRows = (await webhookRows(stack.runtime)).length;
    const results: Results = { startedAt, loadAverage, phases, replay: stripeReplay, polarReplay, totalRows, totalSent: sent.size };
    failed = problems(results).length > 0;
    const report = render(results);
    console.log(`\n${report}`);
    if (settings.writeDocs) {
      publishReport(report);
    }
  } finally {
    await stack.close();
  }
  if (failed) throw new Error("not every event was applied exactly once, or a replay changed something (see Problems above).");
}

runBenchmark("Billing benchmark", main);

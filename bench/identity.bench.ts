/**
 * Identity provisioning benchmark: 50 trial accounts pay for Basic at the same moment, each
 * through the simulator's Stripe checkout (`POST /_sim/stripe/checkout/{id}/complete`, which
 * delivers the signed webhooks to the backend before it answers), with the simulator's Google and
 * Telnyx answering slowly (100-300 ms) and failing 5% of the time. For each account the benchmark
 * times, from the moment the checkout is completed, until `identity.view.mine` (subscribed over
 * the WebSocket client, as the dashboard is) shows the identity active: Workspace user and
 * mailbox, Telnyx number and messaging profile, Signal registered with the code that arrives by
 * SMS on the Telnyx webhook. Then it reads back every identity row and counts the injected
 * failures the provisioning retried through.
 *
 *   npm run bench:identity     # starts its own simulator and offline runtime (also part of npm run bench)
 *
 * Bounded: each account gets BENCH_IDENTITY_TIMEOUT_S to become active, the run
 * BENCH_IDENTITY_MAX_SECONDS in all. Writes its section of docs/benchmarks.md.
 */
import os from "node:os";
import WebSocket from "ws";
import { ConvexClient } from "convex/browser";
import type { FunctionReturnType } from "convex/server";
import { api } from "../convex/_generated/api.js";
import { devSimulatorBilling } from "../dev/env.ts";
import { intEnv, publishReport, runBenchmark, startBenchStack, type BenchStack } from "./stack.ts";
import { assertLoopback, percentile } from "./load.ts";
import { authenticate, devToken } from "./devSignIn.ts";

const settings = {
  accounts: Math.max(1, intEnv("BENCH_IDENTITY_ACCOUNTS", 50)),
  latencyMinMs: intEnv("BENCH_IDENTITY_LATENCY_MIN_MS", 100),
  latencyMaxMs: intEnv("BENCH_IDENTITY_LATENCY_MAX_MS", 300),
  /** Share of Google and Telnyx requests answered with a 503, in percent. */
  failurePercent: intEnv("BENCH_IDENTITY_FAILURE_PERCENT", 5),
  /** How long one account may take from checkout to an active identity. */
  timeoutMs: intEnv("BENCH_IDENTITY_TIMEOUT_S", 180) * 1000,
  /** The whole run, setup included. */
  maxSeconds: intEnv("BENCH_IDENTITY_MAX_SECONDS", 420),
  /** Accounts signed up and sent to checkout at once while setting up (not measured). */
  setupConcurrency: Math.max(1, intEnv("BENCH_IDENTITY_SETUP_CONCURRENCY", 10)),
  writeDocs: process.env.BENCH_WRITE_DOCS !== "0",
};

/** The identityPool workpool's maxParallelism (IDENTITY_POOL_PARALLELISM, convex/lib/identityPool.ts), for the floor the report states. */
const POOL_PARALLELISM = 50;

/** The target the issue sets. */
const TARGET_P95_MS = 10_000;

type IdentityView = FunctionReturnType<typeof api.identity.view.mine>;

interface Account {
  email: string;
  client: ConvexClient;
  checkoutSessionId: string;
  /** The latest identity the subscription delivered, and when each phase was first seen. */
  latest: IdentityView | undefined;
  activeAt: number | null;
  /** The same moment on the wall clock, which the step timestamps use. */
  activeWallAt: number | null;
  onActive: (() => void) | null;
}

interface Sample {
  email: string;
  /** Checkout completed (the control call sent) -> the simulator answered: webhooks applied. */
  webhooksMs: number | null;
  /** Checkout completed -> the subscription shows the identity active. */
  activeMs: number | null;
  /** Where the time went, from the steps' own timestamps (active identities only). */
  parts?: Parts;
  /** A step of this activation met a failure and was retried (its lastError stays on the step). */
  retried?: boolean;
  error?: string;
  /** The status the identity was left in (when it did not become active). */
  lastStatus?: string;
}

/**
 * One activation, split up (ms): toFirstStep + span + toClient add up to checkout -> active. The
 * email and phone branches run side by side, so the steps' own durations are summed per branch
 * and the longer branch is the one that sets the span.
 */
interface Parts {
  /** Checkout completed -> the first step started: webhooks, account activation, the first enqueue. */
  toFirstStep: number;
  /** The first step started -> the last one finished: both branches, side by side. */
  span: number;
  /** The email branch (Workspace user, mailbox), started -> finished, summed. */
  emailSteps: number;
  /** The phone branch (number, messaging profile, Signal), started -> finished, summed. */
  phoneSteps: number;
  /** The last step finished -> the client saw the identity active. */
  toClient: number;
}

const EMAIL_STEPS = new Set(["workspace_restore", "workspace_user", "mailbox"]);

function partsOf(steps: NonNullable<IdentityView>["steps"], startedWall: number, activeWall: number): Parts | undefined {
  const timed = steps.filter((s) => s.startedAt !== undefined && s.finishedAt !== undefined);
  if (timed.length === 0) return undefined;
  const firstStart = Math.min(...timed.map((s) => s.startedAt!));
  const lastFinish = Math.max(...timed.map((s) => s.finishedAt!));
  const sum = (list: typeof timed) => list.reduce((total, s) => total + (s.finishedAt! - s.startedAt!), 0);
  return {
    toFirstStep: firstStart - startedWall,
    span: lastFinish - firstStart,
    emailSteps: sum(timed.filter((s) => EMAIL_STEPS.has(s.name))),
    phoneSteps: sum(timed.filter((s) => !EMAIL_STEPS.has(s.name))),
    toClient: activeWall - lastFinish,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One customer, as the SPA makes them: signed in (dev issuer), signed up on the trial, a Stripe
 * checkout for Basic started (`billing.checkout.start`, the hosted page's session id kept), and
 * the dashboard's identity subscription open. Nothing is paid yet.
 */
async function prepareAccount(stack: BenchStack, email: string): Promise<Account> {
  const client = new ConvexClient(stack.runtime.urls.cloud, {
    webSocketConstructor: WebSocket as never,
    unsavedChangesWarning: false,
    logger: false,
  });
  await authenticate(client, await devToken(stack.runtime.urls.site, email));
  const signup = await client.mutation(api.signup.account.ensure, {});
  if (signup.status !== "created") throw new Error(`signup of ${email} was ${signup.status}`);
  const checkout = await client.action(api.billing.checkout.start, { plan: "basic" });
  const id = /\/_sim\/stripe\/checkout\/(cs_[A-Za-z0-9_]+)/.exec(checkout.url)?.[1];
  if (!id) throw new Error(`checkout.start gave ${checkout.url}, not the simulator's hosted page`);
  const account: Account = { email, client, checkoutSessionId: id, latest: undefined, activeAt: null, activeWallAt: null, onActive: null };
  client.onUpdate(api.identity.view.mine, {}, (identity) => {
    account.latest = identity;
    if (identity?.phase === "active" && account.activeAt === null) {
      account.activeAt = performance.now();
      account.activeWallAt = Date.now();
      account.onActive?.();
    }
  });
  return account;
}

/** Runs `work` over `items` with at most `concurrency` at a time. */
async function pool<T, R>(items: T[], concurrency: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      for (;;) {
        const i = next++;
        if (i >= items.length) return;
        out[i] = await work(items[i], i);
      }
    }),
  );
  return out;
}

/** Pays: the hosted page's button, as a control call. Then waits for the identity to be active. */
async function payAndWait(stack: BenchStack, account: Account, deadline: number): Promise<Sample> {
  const started = performance.now();
  const startedWall = Date.now();
  const active = new Promise<void>((resolve) => {
    if (account.activeAt !== null) resolve();
    else account.onActive = resolve;
  });
  let webhooksMs: number | null = null;
  try {
    const response = await fetch(`${stack.sim.url}/_sim/stripe/checkout/${account.checkoutSessionId}/complete`, {
      method: "POST",
      signal: AbortSignal.timeout(60_000),
    });
    if (!response.ok) throw new Error(`checkout completion answered ${response.status}: ${(await response.text()).slice(0, 200)}`);
    webhooksMs = performance.now() - started;
    const until = Math.min(deadline, Date.now() + settings.timeoutMs);
    const timedOut = await Promise.race([active.then(() => false), sleep(Math.max(0, until - Date.now())).then(() => true)]);
    if (timedOut || account.activeAt === null) {
      return { email: account.email, webhooksMs, activeMs: null, error: "not active in time", lastStatus: account.latest?.status ?? "no identity" };
    }
    const steps = account.latest?.steps ?? [];
    return {
      email: account.email,
      webhooksMs,
      activeMs: account.activeAt - started,
      parts: partsOf(steps, startedWall, account.activeWallAt!),
      retried: steps.some((s) => s.lastError !== undefined),
    };
  } catch (error) {
    return { email: account.email, webhooksMs, activeMs: null, error: (error as Error).message, lastStatus: account.latest?.status };
  }
}

interface LoggedRequest {
  seq: number;
  path: string;
  status: number | null;
}

async function loggedRequests(stack: BenchStack): Promise<LoggedRequest[]> {
  const response = await fetch(`${stack.sim.url}/_sim/requests?limit=100000`);
  if (!response.ok) throw new Error(`the simulator's request log answered ${response.status}`);
  return ((await response.json()) as { requests: LoggedRequest[] }).requests;
}

async function lastRequestSeq(stack: BenchStack): Promise<number> {
  return Math.max(0, ...(await loggedRequests(stack)).map((r) => r.seq));
}

/** What Google and Telnyx were asked during the burst (after `since`), and how many answers were injected failures. */
async function providerTraffic(
  stack: BenchStack,
  since: number,
): Promise<{ google: { calls: number; failed: number }; telnyx: { calls: number; failed: number; taken: number }; signal: number }> {
  const requests = (await loggedRequests(stack)).filter((r) => r.seq > since);
  const google = requests.filter((r) => /^\/(token|admin|gmail|calendar)\b/.test(r.path));
  const telnyx = requests.filter((r) => r.path.startsWith("/v2/"));
  const signal = requests.filter((r) => /^\/v[12]\/(register|receive|send|unregister)/.test(r.path));
  const failed = (list: LoggedRequest[]) => list.filter((r) => r.status !== null && r.status >= 500).length;
  return {
    google: { calls: google.length, failed: failed(google) },
    // 422 on an order: the number a concurrent search also returned went to another account first (85001).
    telnyx: { calls: telnyx.length, failed: failed(telnyx), taken: telnyx.filter((r) => r.path === "/v2/number_orders" && r.status === 422).length },
    signal: signal.length,
  };
}

interface Results {
  startedAt: Date;
  loadAverage: number;
  samples: Sample[];
  wallMs: number;
  traffic: Awaited<ReturnType<typeof providerTraffic>>;
  /** Identity rows read back after the burst: phase counts, and rows missing an address or number. */
  rows: { phases: Record<string, number>; incomplete: number };
}

const f0 = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : "n/a");
const seconds = (ms: number) => (Number.isFinite(ms) ? (ms / 1000).toFixed(1) : "n/a");

function render(r: Results): string {
  const cpus = os.cpus();
  const active = r.samples.filter((s) => s.activeMs !== null);
  const activeMs = active.map((s) => s.activeMs!);
  const webhookMs = r.samples.filter((s) => s.webhooksMs !== null).map((s) => s.webhooksMs!);
  const p95 = percentile(activeMs, 95);
  const allActive = active.length === r.samples.length;
  const failures = r.samples.filter((s) => s.activeMs === null);
  const failureLines = failures.slice(0, 10).map((s) => `- ${s.email}: ${s.error ?? "failed"}${s.lastStatus ? ` (left ${s.lastStatus})` : ""}`);
  if (failures.length > failureLines.length) failureLines.push(`- and ${failures.length - failureLines.length} more`);
  const phases = Object.entries(r.rows.phases).map(([phase, n]) => `${n} ${phase}`).join(", ") || "none";
  const parts = active.flatMap((s) => (s.parts ? [s.parts] : []));
  const partRow = (label: string, pick: (p: Parts) => number) =>
    `| ${label} | ${seconds(percentile(parts.map(pick), 50))} | ${seconds(percentile(parts.map(pick), 95))} |`;
  // Every provider call waits its simulated latency while it holds one of the pool's slots.
  const retried = active.filter((s) => s.retried).map((s) => s.activeMs!);
  const clean = active.filter((s) => !s.retried).map((s) => s.activeMs!);
  const calls = r.traffic.google.calls + r.traffic.telnyx.calls + r.traffic.signal;
  const floorMs = (calls * ((settings.latencyMinMs + settings.latencyMaxMs) / 2)) / POOL_PARALLELISM;
  return `## Identity provisioning (\`npm run bench:identity\`)

${r.samples.length} trial accounts complete a Basic checkout at the same moment, through the provider
simulator's Stripe (\`POST /_sim/stripe/checkout/{id}/complete\`, the hosted page's "Pay" button: it
delivers the signed \`customer.subscription.created\`, \`checkout.session.completed\` and
\`invoice.paid\` webhooks to the backend and answers once they are acknowledged). Each account then
gets its identity: a Workspace user and mailbox (Google), a number and messaging profile (Telnyx),
Signal registered and verified with the code that arrives as an SMS on the Telnyx webhook. The
benchmark times each account from the moment its checkout is completed until \`identity.view.mine\`,
subscribed over the WebSocket client as the dashboard is, shows the identity **active**.

Run: ${r.startedAt.toISOString()} (simulator and offline runtime started by the benchmark, in its process).
Machine: ${cpus.length} cores, ${cpus[0]?.model.trim() ?? "unknown"}, ${Math.round(os.totalmem() / 2 ** 30)} GB, ${os.type()} ${os.release()} ${os.arch()}, Node ${process.version};
1-minute load average ${r.loadAverage.toFixed(1)} when the run started (other work on the machine counts too).
Setup: the accounts signed up and started their checkouts first (not timed); then Google and Telnyx
answer after ${settings.latencyMinMs}-${settings.latencyMaxMs} ms and fail ${settings.failurePercent}% of requests with a 503 (the simulator's
seeded failure injection), Signal answers without demanding a captcha. Provisioning steps run on
the \`identityPool\` workpool (${POOL_PARALLELISM} at a time) with its retries and backoff.

| accounts | identity active | checkout to active p50 / p95 / max s | webhooks acknowledged p50 / p95 s | wall s |
| --- | --- | --- | --- | --- |
| ${r.samples.length} at once | **${active.length}/${r.samples.length} (${f0((active.length / r.samples.length) * 100)}%)** | **${seconds(percentile(activeMs, 50))} / ${seconds(p95)}** / ${seconds(activeMs.length ? Math.max(...activeMs) : NaN)} | ${seconds(percentile(webhookMs, 50))} / ${seconds(percentile(webhookMs, 95))} | ${seconds(r.wallMs)} |

Target: p95 under ${TARGET_P95_MS / 1000} s and every identity active: **${p95 < TARGET_P95_MS && allActive ? "met" : "not met"}**
(p95 ${seconds(p95)} s, ${active.length} of ${r.samples.length} active within ${settings.timeoutMs / 1000} s each).

Where an activation's time goes (from the steps' own \`startedAt\` / \`finishedAt\`; the first, second and last
rows add up to checkout to active; the two branches run side by side inside the second), seconds:

| part | p50 | p95 |
| --- | --- | --- |
${partRow("checkout to the first step started (webhooks, activation, first enqueue)", (p) => p.toFirstStep)}
${partRow("first step started to last step finished (both branches)", (p) => p.span)}
${partRow("of which the email branch: Workspace user and mailbox, inside the steps", (p) => p.emailSteps)}
${partRow("of which the phone branch: number, messaging profile, Signal (the SMS code wait included), inside the steps", (p) => p.phoneSteps)}
${partRow("last step finished to the dashboard's subscription showing it", (p) => p.toClient)}

The provider calls alone set a floor: ${calls} calls at ${(settings.latencyMinMs + settings.latencyMaxMs) / 2} ms on average, through a workpool that
runs ${POOL_PARALLELISM} at a time (\`identityPool\`, \`convex/lib/identityPool.ts\`), take at least **${seconds(floorMs)} s** for the burst, whatever
the runtime does. Each account's email branch (two steps) and phone branch (five) run side by side, one step at a time per branch.

Retries: ${retried.length} of ${active.length} activations met at least one injected failure and waited for the workpool's
backoff before the retry (\`STEP_RETRY\` in \`convex/identity/lifecycle.ts\`: about 300 ms, doubling): checkout to active p50 / p95 **${seconds(percentile(retried, 50))} / ${seconds(percentile(retried, 95))} s**
for those, ${seconds(percentile(clean, 50))} / ${seconds(percentile(clean, 95))} s for the ${clean.length} without a retry.

Provider traffic during the burst (the simulator's request log): Google ${r.traffic.google.calls} requests, ${r.traffic.google.failed} of them
injected failures; Telnyx ${r.traffic.telnyx.calls}, ${r.traffic.telnyx.failed} injected failures and ${r.traffic.telnyx.taken} orders refused because a concurrent
search's number went to another account first (85001, searched and ordered again); Signal ${r.traffic.signal}. Identity rows read back
afterwards: ${phases}; ${r.rows.incomplete} active row(s) without an address or a number.
${failures.length ? `\nNot active in time:\n\n${failureLines.join("\n")}\n` : ""}
Reading these numbers: an activation's time is its longer branch, the phone one: five steps one
after another (the SMS code's round trip through the Telnyx webhook included), each paying the
workpool's round trip (the enqueue, the run's start, its onComplete: several mutations) on top of
its provider calls; each step holds one of the pool's ${POOL_PARALLELISM} slots for its calls (${f0(calls / Math.max(1, r.samples.length))} per account
here, retries and re-searched orders included), and a failed call waits for the workpool's backoff
(about 300 ms, then doubling) before its retry.${
    floorMs > TARGET_P95_MS
      ? ` With ${r.samples.length} activations at once the provider-call floor above is itself over the
${TARGET_P95_MS / 1000} s target: more identity work in flight, or fewer calls per account, would be needed.`
      : ""
  } The offline runtime also runs one mutation at a time (step outcomes, the workpool's bookkeeping
and the webhooks queue behind each other), which a Convex deployment does not. The load
generator, the simulator and the runtime share the machine's cores. Variables:
\`BENCH_IDENTITY_ACCOUNTS\` (50), \`BENCH_IDENTITY_LATENCY_MIN_MS\` (100), \`BENCH_IDENTITY_LATENCY_MAX_MS\` (300),
\`BENCH_IDENTITY_FAILURE_PERCENT\` (5), \`BENCH_IDENTITY_TIMEOUT_S\` (180), \`BENCH_IDENTITY_MAX_SECONDS\` (420),
\`BENCH_IDENTITY_SETUP_CONCURRENCY\` (10), \`BENCH_WRITE_DOCS\` (0 to only print). Load only ever goes to loopback addresses.
`;
}

async function readBack(stack: BenchStack, emails: string[]): Promise<Results["rows"]> {
  const phases: Record<string, number> = {};
  let incomplete = 0;
  await stack.runtime.engine.runInline(async (ctx) => {
    for (const email of emails) {
      const user = await ctx.db
        .query("users")
        .withIndex("by_email", (q) => q.eq("email", email))
        .first();
      if (!user) continue;
      const rows = await ctx.db
        .query("identities")
        .withIndex("by_userId", (q) => q.eq("userId", user._id))
        .collect();
      for (const row of rows) {
        phases[row.phase] = (phases[row.phase] ?? 0) + 1;
        if (row.phase === "active" && (!row.workspaceEmail || !row.phoneNumber)) incomplete++;
      }
    }
  });
  return { phases, incomplete };
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const loadAverage = os.loadavg()[0];
  const deadline = Date.now() + settings.maxSeconds * 1000;
  // The burst stops waiting at the deadline; this also bounds the setup and the read-back.
  const watchdog = setTimeout(() => {
    console.error(`Identity benchmark exceeded ${settings.maxSeconds} s (+30 s to report); stopping.`);
    process.exit(1);
  }, (settings.maxSeconds + 30) * 1000);
  watchdog.unref();
  console.log("Starting the provider simulator and the offline runtime...");
  // Every account signs up from 127.0.0.1: lift signup's per-IP limit for this stack only.
  const stack = await startBenchStack({ name: "identity", env: () => ({ SIGNUP_IP_LIMIT_PER_HOUR: "100000" }) });
  for (const url of [stack.runtime.urls.site, stack.runtime.urls.cloud, stack.sim.url]) assertLoopback(url);
  const accounts: Account[] = [];
  try {
    // Stripe's, Polar's and Telnyx's webhooks to this backend; Stripe priced as in development.
    stack.sim.connectWebhooks(stack.runtime.urls.site);
    stack.sim.configure({ ...devSimulatorBilling(stack.runtime.urls.site), requestLogSize: 100_000 });

    const run = Date.now().toString(36);
    const emails = Array.from({ length: settings.accounts }, (_, i) => `identity-${run}-${i}@bench.poindexter.dev`);
    console.log(`Signing up ${emails.length} accounts and starting their checkouts...`);
    accounts.push(...(await pool(emails, settings.setupConcurrency, (email) => prepareAccount(stack, email))));

    applyProviderConditions(stack);
    const since = await lastRequestSeq(stack);
    console.log(`${accounts.length} checkouts completed at once; waiting for their identities...`);
    const t0 = performance.now();
    const samples = await Promise.all(accounts.map((a) => payAndWait(stack, a, deadline)));
    const wallMs = performance.now() - t0;

    const traffic = await providerTraffic(stack, since);
    const rows = await readBack(stack, emails);
    const report = render({ startedAt, loadAverage, samples, wallMs, traffic, rows });
    console.log(`\n${report}`);
    if (settings.writeDocs) publishReport(report);
  } finally {
    await Promise.all(accounts.map((a) => a.client.close().catch(() => undefined)));
    await stack.close();
  }
}

/**
 * Slow, flaky identity providers: the simulator's providerFaults knob. Google and Telnyx answer
 * after 100-300 ms and fail 5% of requests with a 503; Signal is as slow but does not fail (a
 * failed Signal registration is not retried automatically: Signal extends its lockout).
 */
function applyProviderConditions(stack: BenchStack): void {
  const latency = { latencyMinMs: settings.latencyMinMs, latencyMaxMs: settings.latencyMaxMs };
  const flaky = { ...latency, failProbability: settings.failurePercent / 100, failStatus: 503 };
  stack.sim.configure({ providerFaults: { google: flaky, telnyx: flaky, signal: { ...latency, failProbability: 0 } } });
}

runBenchmark("Identity benchmark", main);

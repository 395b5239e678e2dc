/**
 * Usage history benchmark: what the dashboard's live meter queries (convex/usage/meters.ts)
 * read as one account's history grows. Seeds BENCH_HISTORY_SMALL (10,000) usage events for one
 * user in the offline runtime and measures the meters, then does the same with
 * BENCH_HISTORY_LARGE (100,000) events. Writes its section of docs/benchmarks.md.
 *
 *   npm run bench:history
 *
 * Events are recorded by the ledger's own write (lib/usageTotals.ts recordUsage: the event and
 * its month's balance, as settle records a request) and folded into usageDaily by the real
 * rollup job, run until it has caught up, as its cron keeps it in production.
 */
import os from "node:os";
import { getFunctionName } from "convex/server";
import { api, internal } from "../convex/_generated/api.js";
import type { Id } from "../convex/_generated/dataModel.js";
import type { MutationCtx } from "../convex/_generated/server.js";
import { recordUsage } from "../convex/lib/usageTotals.ts";
import { monthOf, monthRange } from "../convex/model/calendar.ts";
import { PRICE_VERSION, tokenCostMicros } from "../convex/model/pricing.ts";
import { percentile } from "./load.ts";
import { intEnv, publishReport, runBenchmark, startBenchStack, type BenchStack } from "./stack.ts";

const settings = {
  small: intEnv("BENCH_HISTORY_SMALL", 10_000),
  large: intEnv("BENCH_HISTORY_LARGE", 100_000),
  calls: Math.max(1, intEnv("BENCH_HISTORY_CALLS", 20)),
  writeDocs: process.env.BENCH_WRITE_DOCS !== "0",
};

const EMAIL = "history@example.com";
const IDENTITY = { tokenIdentifier: "https://bench.local|history", subject: "history", issuer: "https://bench.local" };
const MODELS = ["gpt-4o-mini", "gpt-4o", "gpt-4.1-nano", "gpt-4.1-mini"] as const;
/** Events per seeding transaction. */
const SEED_BATCH = 2_000;

const METERS = [
  { name: "summary", ref: api.usage.meters.summary, args: (month: string) => ({ month }) },
  { name: "daily", ref: api.usage.meters.daily, args: (month: string) => ({ month }) },
  { name: "recent", ref: api.usage.meters.recent, args: () => ({ limit: 20 }) },
] as const;

interface Measured {
  name: string;
  documentsRead: number;
  p50Ms: number;
  p90Ms: number;
}

async function createAccount(stack: BenchStack): Promise<{ userId: Id<"users">; keyId: Id<"apiKeys"> }> {
  let userId = "";
  await stack.runtime.engine.runInline(async (ctx) => {
    userId = await ctx.db.insert("users", {
      tokenIdentifier: IDENTITY.tokenIdentifier,
      email: EMAIL,
      name: "history",
      role: "user",
      state: "active",
      plan: "pro",
      lastSeenAt: Date.now(),
    });
  });
  const key = (await stack.runtime.run("mutation", getFunctionName(internal.cli.createApiKey), { email: EMAIL })) as { keyId: Id<"apiKeys"> };
  return { userId: userId as Id<"users">, keyId: key.keyId };
}

/**
 * Events `from`..`to` (exclusive) of a history of `total` spread evenly over the month so far,
 * ending a minute ago (past the rollup's lag).
 */
async function seed(stack: BenchStack, account: { userId: Id<"users">; keyId: Id<"apiKeys"> }, from: number, to: number, total: number, now: number) {
  const start = monthRange(monthOf(now)).start;
  const span = now - 60_000 - start;
  for (let i = from; i < to; i += SEED_BATCH) {
    const end = Math.min(to, i + SEED_BATCH);
    await stack.runtime.engine.runInline(async (ctx) => {
      for (let n = i; n < end; n++) {
        const model = MODELS[n % MODELS.length];
        const tokensIn = 200 + ((n * 7919) % 3000);
        const tokensOut = 20 + ((n * 104729) % 900);
        await recordUsage(ctx as unknown as MutationCtx, {
          userId: account.userId,
          apiKeyId: account.keyId,
          requestId: `history-${n}`,
          kind: "chat",
          provider: "openai",
          model,
          tokensIn,
          tokensOut,
          characters: 0,
          costMicros: tokenCostMicros(model, { tokensIn, tokensOut }),
          priceVersion: PRICE_VERSION,
          usageSource: "provider",
          latencyMs: 300 + (n % 11) * 40,
          status: "ok",
          httpStatus: 200,
          // Spread over the month so far; the order of n is the order of time.
          at: start + Math.floor((span * n) / total),
        }, now);
      }
    });
  }
}

/** Runs the rollup until it has folded everything (as its 10-second cron keeps it). */
async function catchUp(stack: BenchStack): Promise<void> {
  for (;;) {
    const r = (await stack.runtime.run("mutation", getFunctionName(internal.usage.rollup.foldEvents), {})) as { events: number };
    if (r.events === 0) return;
  }
}

async function measure(stack: BenchStack, month: string): Promise<Measured[]> {
  const out: Measured[] = [];
  for (const meter of METERS) {
    const path = getFunctionName(meter.ref);
    const call = async () => {
      const r = await stack.runtime.engine.call("query", path, meter.args(month), IDENTITY);
      if (!r.ok) throw new Error(`${path} failed: ${r.message}`);
    };
    await call(); // warm-up, not counted
    const before = stack.runtime.metrics().documentsRead;
    const times: number[] = [];
    for (let i = 0; i < settings.calls; i++) {
      const t0 = performance.now();
      await call();
      times.push(performance.now() - t0);
    }
    const read = (stack.runtime.metrics().documentsRead - before) / settings.calls;
    out.push({ name: meter.name, documentsRead: read, p50Ms: percentile(times, 50), p90Ms: percentile(times, 90) });
  }
  return out;
}

/**
 * The history's size twice over: the requests on the month's balance (the ledger's count) and
 * the requests in its usageDaily rows (the rollup's, from the events); they must agree.
 */
async function counted(stack: BenchStack, userId: Id<"users">, month: string): Promise<{ events: number; dailyRows: number }> {
  let balance = -1;
  let daily = -1;
  let dailyRows = 0;
  await stack.runtime.engine.runInline(async (ctx) => {
    const doc = await ctx.db.query("usageMonthly").withIndex("by_userId_and_month", (q) => q.eq("userId", userId).eq("month", month)).first();
    balance = (doc as { requests?: number } | null)?.requests ?? 0;
    const rows = (await ctx.db.query("usageDaily").withIndex("by_userId_and_day_and_model", (q) => q.eq("userId", userId)).collect()) as Array<{ requests: number }>;
    daily = rows.reduce((s, r) => s + r.requests, 0);
    dailyRows = rows.length;
  });
  if (balance !== daily) throw new Error(`the balance counts ${balance} requests, usageDaily ${daily}`);
  return { events: balance, dailyRows };
}

function render(input: { startedAt: string; small: Measured[]; large: Measured[]; sizes: [number, number]; seedSeconds: [number, number]; dailyRows: number }): string {
  const cpus = os.cpus();
  const fmt = (n: number) => n.toLocaleString("en-US");
  const rows = input.small.map((s, i) => {
    const l = input.large[i];
    const ratio = s.documentsRead === 0 ? "n/a" : (l.documentsRead / s.documentsRead).toFixed(2);
    return `| \`usage.meters.${s.name}\` | ${fmt(s.documentsRead)} | ${fmt(l.documentsRead)} | **${ratio}x** | ${s.p50Ms.toFixed(2)} / ${s.p90Ms.toFixed(2)} | ${l.p50Ms.toFixed(2)} / ${l.p90Ms.toFixed(2)} |`;
  });
  return `## Usage history and the live meters (\`npm run bench:history\`)

What the dashboard's live usage meters (\`convex/usage/meters.ts\`: the month's summary, the
daily chart by model, the latest requests) read as one account's history grows from
${fmt(input.sizes[0])} to ${fmt(input.sizes[1])} usage events.

Run: ${input.startedAt} (offline runtime started by the benchmark, in its process).
Machine: ${cpus.length} cores, ${cpus[0]?.model.trim() ?? "unknown"}, ${Math.round(os.totalmem() / 2 ** 30)} GB, ${os.type()} ${os.release()} ${os.arch()}, Node ${process.version};
1-minute load average ${os.loadavg()[0].toFixed(1)} when the report was written (other work on the machine counts too).
Setup: per history size a fresh in-memory runtime with one Pro account and one key; its events
spread evenly over the month so far (ending a minute before the run), four chat models in turn,
each recorded by the ledger's own write (\`recordUsage\` in \`convex/lib/usageTotals.ts\`, which
settle uses: the event and its month's balance); then the real rollup job
(\`usage.rollup.foldEvents\`) run until it has folded everything, as its 10-second cron keeps it.
The balance's request count and the \`usageDaily\` rows' agree at both sizes (checked). Both
sizes cover the same days, so the month has ${fmt(input.dailyRows)} \`usageDaily\` rows (days x models)
either way and only the history's size differs. Seeding took ${input.seedSeconds[0].toFixed(0)} s
and ${input.seedSeconds[1].toFixed(0)} s.
Each query is called ${settings.calls} times as the signed-in customer after a warm-up call;
documents read are the runtime's \`/_dev/metrics\` counter over those calls divided by the calls.

| query | documents read, ${fmt(input.sizes[0])} events | documents read, ${fmt(input.sizes[1])} events | ratio | ms p50 / p90, ${fmt(input.sizes[0])} | ms p50 / p90, ${fmt(input.sizes[1])} |
| --- | --- | --- | --- | --- | --- |
${rows.join("\n")}

Reading these numbers: \`summary\` reads the account row and the month's ONE balance document
(the ledger's \`usageMonthly\`), whatever the history; \`daily\` reads the account row, the
month's \`usageDaily\` rows (at most days x models) and the events after the rollup's cursor
(none here, the job having caught up; in production the last ~20 s); \`recent\` reads the
account row, the newest 20 events and their key. None reads a range that grows with the
history, which is what the ratio column shows. Times are the offline runtime's on this shared
machine (convex-test underneath, one Node process), so compare them with each other, not with a
Convex deployment. Their times stay flat too: the runtime's sorted index
(\`dev/runtime/vm/indexes.ts\`) finds both ends of a range by binary search, as a Convex index
seeks, so a newest-first read visits only the entries it returns. Variables: \`BENCH_HISTORY_SMALL\` (10000), \`BENCH_HISTORY_LARGE\` (100000),
\`BENCH_HISTORY_CALLS\` (20), \`BENCH_WRITE_DOCS\` (0 to only print).
`;
}

interface Phase {
  events: number;
  seedSeconds: number;
  dailyRows: number;
  measured: Measured[];
}

/**
 * One history size in a runtime of its own: the account, its events over the month so far, the
 * rollup caught up, then the meters measured. Each size gets a fresh runtime because the
 * rollup (rightly) never folds an event stamped before its cursor, and spreading both sizes
 * over the same days keeps the calendar (days x models) out of the comparison.
 */
async function phase(size: number): Promise<Phase> {
  const stack = await startBenchStack({ name: "history" });
  try {
    const now = Date.now();
    const account = await createAccount(stack);
    const t0 = performance.now();
    await seed(stack, account, 0, size, size, now);
    await catchUp(stack);
    const seedSeconds = (performance.now() - t0) / 1000;
    const { events, dailyRows } = await counted(stack, account.userId, monthOf(now));
    console.log(`seeded ${events} events in ${seedSeconds.toFixed(1)} s`);
    const measured = await measure(stack, monthOf(now));
    return { events, seedSeconds, dailyRows, measured };
  } finally {
    await stack.close();
  }
}

async function main() {
  const startedAt = new Date().toISOString();
  const small = await phase(settings.small);
  const large = await phase(settings.large);
  if (small.dailyRows !== large.dailyRows) console.warn(`daily rows differ: ${small.dailyRows} vs ${large.dailyRows} (a day boundary passed?)`);
  const report = render({
    startedAt,
    small: small.measured,
    large: large.measured,
    sizes: [small.events, large.events],
    seedSeconds: [small.seedSeconds, large.seedSeconds],
    dailyRows: large.dailyRows,
  });
  console.log(`\n${report}`);
  if (settings.writeDocs) publishReport(report);
}

runBenchmark("history benchmark", main);

// Measures a dashboard-like query (index range by userId + time, take 50, plus a
// 30-row aggregate) and the second page (20, newest first) of one user's events, at 10k and
// 100k documents spread over many users, with the runtime's sorted indexes and with
// convex-test's table scans.
// Run: npx tsx dev/runtime/indexBench.ts   (figures go to dev/runtime/README.md)
import path from "node:path";
import { createEngine, type HostEngine } from "./engineHost.ts";

const functionsDir = path.join(import.meta.dirname, "fixtures/convex");
const USERS = 200;
const DAY = 86_400_000;
const BATCH = 4000;

async function engine(sortedIndexes: boolean): Promise<HostEngine> {
  return createEngine({
    functionsDir,
    env: {},
    hooks: { sortedIndexes, onCommit() {}, onCall() {}, onRead() {}, onWrite() {} },
  });
}

async function fill(e: HostEngine, count: number, now: number) {
  let rand = 7;
  const next = () => ((rand = (rand * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let done = 0; done < count; done += BATCH) {
    await e.runInline(async (ctx) => {
      for (let i = done; i < Math.min(count, done + BATCH); i++) {
        await ctx.db.insert("events", { userId: `user${i % USERS}`, at: now - Math.floor(next() * 30 * DAY), tokens: 100 + (i % 900) });
      }
    });
  }
  await e.runInline(async (ctx) => {
    for (let u = 0; u < USERS; u++) {
      for (let d = 0; d < 30; d++) {
        await ctx.db.insert("daily", { userId: `user${u}`, day: new Date(now - d * DAY).toISOString().slice(0, 10), tokens: 1000 + d });
      }
    }
  });
}

function percentile(sorted: number[], p: number) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function measure(e: HostEngine, runs: number, now: number) {
  // First call builds the index; report it separately.
  const t0 = performance.now();
  await e.call("query", "dashboard:view", { userId: "user0", since: now - 7 * DAY }, null);
  const first = performance.now() - t0;
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const r = await e.call("query", "dashboard:view", { userId: `user${i % USERS}`, since: now - 7 * DAY }, null);
    times.push(performance.now() - started);
    if (!r.ok) throw new Error(r.message);
  }
  times.sort((a, b) => a - b);
  // Second page (20) of one user's events, newest first (paginate after a cursor).
  const pageTimes: number[] = [];
  for (let i = 0; i < runs; i++) {
    const args = { userId: `user${i % USERS}`, loInclusive: true, hiInclusive: true, order: "desc", numItems: 20 };
    const firstPage = await e.call("query", "events:inPages", { ...args, cursor: null }, null);
    if (!firstPage.ok) throw new Error(firstPage.message);
    const cursor = (firstPage.value as { continueCursor: string }).continueCursor;
    const started = performance.now();
    const r = await e.call("query", "events:inPages", { ...args, cursor }, null);
    pageTimes.push(performance.now() - started);
    if (!r.ok) throw new Error(r.message);
  }
  pageTimes.sort((a, b) => a - b);
  return { first, p50: percentile(times, 50), p95: percentile(times, 95), page50: percentile(pageTimes, 50) };
}

const now = Date.now();
const rows: string[] = [];
for (const count of [10_000, 100_000]) {
  for (const sorted of [true, false]) {
    const e = await engine(sorted);
    const fillStart = performance.now();
    await fill(e, count, now);
    const fillMs = performance.now() - fillStart;
    const r = await measure(e, sorted ? 200 : 20, now);
    if (sorted) {
      const s0 = performance.now();
      const snap = await e.snapshot();
      console.log(`snapshot of ${count} events: ${(snap.length / 1e6).toFixed(1)} MB in ${(performance.now() - s0).toFixed(0)} ms`);
    }
    const row = `| ${count.toLocaleString("en-US")} | ${sorted ? "sorted indexes" : "convex-test scan"} | ${r.first.toFixed(1)} | ${r.p50.toFixed(2)} | ${r.p95.toFixed(2)} | ${r.page50.toFixed(2)} | ${(fillMs / 1000).toFixed(1)} |`;
    console.log(row);
    rows.push(row);
  }
}
console.log("\n| events | lookup | first query ms (builds index) | p50 ms | p95 ms | 2nd page p50 ms | insert s |\n|---|---|---|---|---|---|---|");
for (const r of rows) console.log(r);
process.exit(0);

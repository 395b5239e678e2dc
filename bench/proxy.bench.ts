/**
 * Proxy overhead benchmark: the same OpenAI requests sent straight to the provider simulator,
 * through Portkey's open-source gateway (a reference: a plain forwarding gateway, no metering)
 * and through the metered proxy (httpActions on the Convex site URL), in one run.
 *
 *   npm run bench                      # starts its own simulator, Portkey and offline runtime
 *   BENCH_URL=http://127.0.0.1:3211 npm run bench   # against a running `npm run backend`
 *
 * Reports added latency (leg minus direct) at p50/p99, added streaming time to first byte,
 * requests per second for every leg, and Convex function calls (the app's own and the
 * components') and documents read/written per proxied request from the runtime's
 * /_dev/metrics. Writes the figures to docs/benchmarks.md. See docs/benchmarks.md for every
 * BENCH_* variable.
 */
import { createServer } from "node:net";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { ConvexHttpClient } from "convex/browser";
import { internal } from "../convex/_generated/api.js";
import { adminKey as cliAdminKey, asAdmin } from "../scripts/cli.ts";
import { intEnv, processCpuMs, publishReport, runBenchmark, startChild, startIsolatedBenchStack, type BenchProcess } from "./stack.ts";
import { assertLoopback, runLoad, summarize, timedRequest, type JsonTarget, type LoadResult, type Sample, type Summary } from "./load.ts";
import { renderReport, targetChecks, type ConvexWork, type ScenarioResult } from "./report.ts";

export const settings = {
  upstreamLatencyMs: intEnv("BENCH_LATENCY_MS", 50),
  // Long enough that a cron firing or a GC in one phase moves its figures little: a 16 or
  // 64 concurrent phase of a few hundred requests lasted about a second.
  sequential: intEnv("BENCH_SEQUENTIAL", 300),
  concurrent16: intEnv("BENCH_C16_REQUESTS", 2000),
  concurrent64: intEnv("BENCH_C64_REQUESTS", 3000),
  streaming: intEnv("BENCH_STREAM_REQUESTS", 200),
  // Each phase's legs take turns in this many rounds (runInRounds), so drift in the machine's
  // speed during a phase reaches every leg alike.
  rounds: Math.max(1, intEnv("BENCH_ROUNDS", 5)),
  // Enough for V8 to optimize each path's hot code (every leg the same), so the phases measure
  // the steady state, not the first compilation.
  warmup: intEnv("BENCH_WARMUP", 400),
  users: Math.max(1, intEnv("BENCH_USERS", 8)),
  completionTokens: intEnv("BENCH_COMPLETION_TOKENS", 16),
  streamTokenIntervalMs: intEnv("BENCH_STREAM_TOKEN_INTERVAL_MS", 2),
  maxSeconds: intEnv("BENCH_MAX_SECONDS", 420),
  portkey: process.env.BENCH_PORTKEY !== "0",
  writeDocs: process.env.BENCH_WRITE_DOCS !== "0",
};

interface Environment {
  mode: "embedded" | "external";
  siteUrl: string;
  cloudUrl: string;
  simulatorUrl: string;
  adminKey: string;
  /** The runtime's process id when the benchmark started it (for its CPU time per request). */
  runtimePid: number | null;
  close(): Promise<void>;
}

/**
 * Starts a simulator and an in-memory offline runtime pointed at it, each in a child process of
 * its own (bench/stack.ts): like Portkey's gateway, the runtime shares its event loop with
 * neither the upstream nor the load generator.
 */
async function embeddedEnvironment(): Promise<Environment> {
  const { runtime, sim, close } = await startIsolatedBenchStack({ name: "proxy" });
  return {
    mode: "embedded",
    siteUrl: runtime.urls.site,
    cloudUrl: runtime.urls.cloud,
    simulatorUrl: sim.url,
    adminKey: runtime.adminKey,
    runtimePid: runtime.pid,
    close,
  };
}

/** A running `npm run backend`: its site URL, cloud URL and simulator (which the bench reconfigures). */
async function externalEnvironment(siteUrl: string): Promise<Environment> {
  const cloudUrl = process.env.BENCH_CLOUD_URL ?? process.env.CONVEX_URL ?? "http://127.0.0.1:3210";
  const simulatorUrl = process.env.BENCH_SIMULATOR_URL ?? `http://127.0.0.1:${process.env.SIMULATOR_PORT ?? 3220}`;
  const previous = await fetch(`${simulatorUrl}/_sim/config`).then(
    (r) => r.json() as Promise<unknown>,
    (error: unknown) => {
      throw new Error(`No provider simulator at ${simulatorUrl} (${(error as Error).message}); set BENCH_SIMULATOR_URL.`);
    },
  );
  return {
    mode: "external",
    siteUrl: siteUrl.replace(/\/+$/, ""),
    cloudUrl,
    simulatorUrl,
    adminKey: cliAdminKey(),
    runtimePid: null,
    async close() {
      // Leave the developer's simulator as we found it.
      await configureSimulator(simulatorUrl, previous);
    },
  };
}

async function configureSimulator(simulatorUrl: string, patch: unknown): Promise<void> {
  const response = await fetch(`${simulatorUrl}/_sim/config`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(patch),
  });
  if (!response.ok) throw new Error(`Simulator refused the config: ${await response.text()}`);
}

/** Headless, on a free loopback port, with an empty env (no proxy or cache settings of the shell). */
async function startPortkey(): Promise<BenchProcess> {
  let pkg: string;
  try {
    pkg = createRequire(import.meta.url).resolve("@portkey-ai/gateway/package.json");
  } catch {
    throw new Error("@portkey-ai/gateway is not installed (a devDependency: run `npm install`), or set BENCH_PORTKEY=0 to skip its leg.");
  }
  const entry = path.join(path.dirname(pkg), "build", "start-server.js");
  const port = await freePort();
  return await startChild(
    "Portkey's gateway",
    [entry, `--port=${port}`, "--headless"],
    { PATH: process.env.PATH ?? "" },
    (output) => (output.includes("Ready for connections") ? `http://127.0.0.1:${port}` : null),
  );
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

type Calls = Record<string, number>;

interface RawMetrics {
  functionCalls: Calls;
  /** Absent on a runtime from before the split; then every call counts as the app's. */
  appFunctionCalls?: Calls;
  componentFunctionCalls?: Calls;
  componentCalls?: Record<string, Calls>;
  documentsRead: number;
  documentsWritten: number;
}

async function readMetrics(cloudUrl: string): Promise<RawMetrics | null> {
  try {
    const response = await fetch(`${cloudUrl}/_dev/metrics`);
    return response.ok ? ((await response.json()) as RawMetrics) : null;
  } catch {
    return null;
  }
}

const sum = (calls: Calls | undefined): number => Object.values(calls ?? {}).reduce((a, b) => a + b, 0);

function totalCalls(m: RawMetrics): number {
  return sum(m.functionCalls);
}

/**
 * Metrics once work the requests scheduled (settlement, rollups) has drained: two equal
 * readings 300 ms apart, or whatever is there after 5 s.
 */
async function settledMetrics(cloudUrl: string): Promise<RawMetrics | null> {
  let last = await readMetrics(cloudUrl);
  const until = Date.now() + 5_000;
  while (last && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 300));
    const now = await readMetrics(cloudUrl);
    if (now && totalCalls(now) === totalCalls(last) && now.documentsWritten === last.documentsWritten) return now;
    last = now;
  }
  return last;
}

/** Per-kind deltas divided by `requests`, kinds that did not move left out. */
function perRequest(before: Calls | undefined, after: Calls | undefined, requests: number): Calls {
  const out: Calls = {};
  for (const kind of Object.keys(after ?? {})) {
    const n = ((after?.[kind] ?? 0) - (before?.[kind] ?? 0)) / requests;
    if (n !== 0) out[kind] = n;
  }
  return out;
}

function workPerRequest(before: RawMetrics | null, after: RawMetrics | null, requests: number): ConvexWork | null {
  if (!before || !after || requests === 0) return null;
  const split = after.appFunctionCalls !== undefined && before.appFunctionCalls !== undefined;
  const byComponent: Calls = {};
  for (const [component, calls] of Object.entries(after.componentCalls ?? {})) {
    const n = (sum(calls) - sum(before.componentCalls?.[component])) / requests;
    if (n !== 0) byComponent[component] = n;
  }
  const appPerKind = perRequest(split ? before.appFunctionCalls : before.functionCalls, split ? after.appFunctionCalls : after.functionCalls, requests);
  const componentPerKind = split ? perRequest(before.componentFunctionCalls, after.componentFunctionCalls, requests) : {};
  return {
    functionCalls: (totalCalls(after) - totalCalls(before)) / requests,
    appCalls: sum(appPerKind),
    appPerKind,
    componentCalls: sum(componentPerKind),
    componentPerKind,
    byComponent,
    componentsCounted: split,
    documentsRead: (after.documentsRead - before.documentsRead) / requests,
    documentsWritten: (after.documentsWritten - before.documentsWritten) / requests,
  };
}

const refs = {
  createAccount: asAdmin(internal.cli.createAccount),
  createKey: asAdmin(internal.cli.createApiKey),
};

/** Pro accounts, one key each: the load is spread so no single plan's rate limit is the bottleneck. */
async function createKeys(env: Environment, count: number): Promise<string[]> {
  const client = new ConvexHttpClient(env.cloudUrl);
  // Not in the public typings, but the supported way to call internal functions as admin.
  (client as unknown as { setAdminAuth(key: string): void }).setAdminAuth(env.adminKey);
  const run = Date.now().toString(36);
  const keys: string[] = [];
  for (let i = 0; i < count; i++) {
    const email = `bench-${run}-${i}@example.com`;
    await client.mutation(refs.createAccount, { email, plan: "pro" });
    const created = await client.mutation(refs.createKey, { email, name: "benchmark" });
    keys.push(created.secret);
  }
  return keys;
}

function chatBody(stream: boolean) {
  return {
    model: "gpt-4o-mini",
    messages: [
      { role: "system", content: "You are a concise assistant." },
      { role: "user", content: "Give me a one-line status update for the benchmark." },
    ],
    // A small cap keeps each request's quota hold small, as a real client would.
    max_tokens: 32,
    ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
  };
}

interface Phase {
  name: string;
  total: number;
  concurrency: number;
  stream: boolean;
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const deadline = Date.now() + settings.maxSeconds * 1000;
  const benchUrl = process.env.BENCH_URL;
  console.log(benchUrl ? `Benchmarking the proxy at ${benchUrl}` : "Starting the provider simulator and the offline runtime...");
  const env = benchUrl ? await externalEnvironment(benchUrl) : await embeddedEnvironment();
  let portkey: BenchProcess | null = null;

  try {
    for (const url of [env.siteUrl, env.cloudUrl, env.simulatorUrl]) assertLoopback(url);
    if (settings.portkey) {
      console.log("Starting Portkey's gateway...");
      portkey = await startPortkey();
      assertLoopback(portkey.url);
    }
    await configureSimulator(env.simulatorUrl, {
      latencyMs: settings.upstreamLatencyMs,
      tokenIntervalMs: 0,
      completionTokens: settings.completionTokens,
      fail: null,
      streamCut: null,
      // The simulated organization must never be the bottleneck.
      rateLimit: { requestsPerMinute: 100_000_000, tokensPerMinute: 1_000_000_000_000 },
      requestLogSize: 50,
    });

    const keys = await createKeys(env, settings.users);
    const direct = (stream: boolean): JsonTarget => ({ url: `${env.simulatorUrl}/v1/chat/completions`, apiKey: "sk-sim-bench", body: chatBody(stream), stream });
    const proxied = (stream: boolean, i: number): JsonTarget => ({ url: `${env.siteUrl}/v1/chat/completions`, apiKey: keys[i % keys.length], body: chatBody(stream), stream });
    // Portkey forwards to the simulator as its OpenAI provider with a custom host, as its docs
    // describe for self-hosted OpenAI-compatible upstreams.
    const viaPortkey = (gateway: BenchProcess): JsonTarget => ({
      url: `${gateway.url}/v1/chat/completions`,
      apiKey: "sk-sim-bench",
      body: chatBody(false),
      stream: false,
      headers: { "x-portkey-provider": "openai", "x-portkey-custom-host": `${env.simulatorUrl}/v1` },
    });

    const probe = await timedRequest(proxied(false, 0));
    if (!probe.ok) {
      const why =
        probe.status === 404
          ? `POST /v1/chat/completions is not mounted on ${env.siteUrl} (the proxy routes are not in convex/http.ts yet).`
          : `the proxy answered ${probe.status || "a network error"}: ${probe.error}`;
      throw new Error(`The proxy is not usable: ${why}`);
    }
    if (portkey) {
      const answer = await timedRequest(viaPortkey(portkey));
      if (!answer.ok) throw new Error(`Portkey's gateway is not usable: it answered ${answer.status || "a network error"}: ${answer.error}`);
    }

    // Module loading and JIT warm-up on every path before anything is measured.
    await runLoad({ total: settings.warmup, concurrency: 16, deadline, send: () => timedRequest(direct(false)) });
    if (portkey) await runLoad({ total: settings.warmup, concurrency: 16, deadline, send: () => timedRequest(viaPortkey(portkey!)) });
    await runLoad({ total: settings.warmup, concurrency: 16, deadline, send: (i) => timedRequest(proxied(false, i)) });

    const phases: Phase[] = [
      { name: "sequential", total: settings.sequential, concurrency: 1, stream: false },
      { name: "16 concurrent", total: settings.concurrent16, concurrency: 16, stream: false },
      { name: "64 concurrent", total: settings.concurrent64, concurrency: 64, stream: false },
      { name: "streaming (sequential)", total: settings.streaming, concurrency: 1, stream: true },
    ];
    const results: ScenarioResult[] = [];
    for (const phase of phases) {
      if (phase.total === 0) continue;
      if (Date.now() >= deadline) {
        console.log(`Deadline of ${settings.maxSeconds}s reached; skipping ${phase.name}.`);
        break;
      }
      if (phase.stream) await configureSimulator(env.simulatorUrl, { tokenIntervalMs: settings.streamTokenIntervalMs });
      // Streaming is not measured through Portkey: see the report.
      const legs: Leg[] = [
        { name: "direct", pid: null, send: () => timedRequest(direct(phase.stream)) },
        ...(portkey && !phase.stream ? [{ name: "portkey" as const, pid: portkey.pid, send: () => timedRequest(viaPortkey(portkey!)) }] : []),
        { name: "proxy", pid: env.runtimePid, metricsUrl: env.cloudUrl, send: (i: number) => timedRequest(proxied(phase.stream, i)) },
      ];
      const runs = await runInRounds(phase, legs, settings.rounds, deadline);
      if (phase.stream) await configureSimulator(env.simulatorUrl, { tokenIntervalMs: 0 });
      const result: ScenarioResult = {
        ...phase,
        direct: runs.direct.summary,
        portkey: runs.portkey?.summary ?? null,
        proxy: runs.proxy.summary,
        convex: runs.proxy.work,
      };
      results.push(result);
      printScenario(result);
    }

    console.log("\ntargets");
    for (const c of targetChecks(results)) {
      console.log(`  ${c.met === null ? "n/a" : c.met ? "met    " : "NOT met"}  ${c.target}: proxy ${c.proxy}${c.portkey !== null ? `, Portkey ${c.portkey}` : ""}`);
    }

    const machine = {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model.trim() ?? "unknown",
      node: process.version,
      os: `${os.type()} ${os.release()} ${os.arch()}`,
      memoryGb: Math.round(os.totalmem() / 2 ** 30),
    };
    const report = renderReport({
      startedAt,
      machine,
      loadAverage: os.loadavg()[0],
      settings,
      mode: env.mode,
      portkeyVersion: settings.portkey ? portkeyVersion() : null,
      results,
    });
    if (settings.writeDocs) {
      publishReport(report);
    }
  } finally {
    await portkey?.close();
    await env.close();
  }
}

type Counters = { [key: string]: number | Counters | undefined };

/** `a + sign * b` for nested counters (the runtime's metrics); a key missing on one side is 0. */
function addCounters<T extends object>(a: object, b: T, sign = 1): T {
  const x = a as Counters;
  const y = b as Counters;
  const out: Counters = {};
  for (const key of new Set([...Object.keys(x), ...Object.keys(y)])) {
    const u = x[key];
    const v = y[key];
    if (typeof u === "object" || typeof v === "object") out[key] = addCounters(typeof u === "object" ? u : {}, typeof v === "object" ? v : {}, sign);
    else out[key] = (u ?? 0) + sign * (v ?? 0);
  }
  return out as T;
}

interface Leg {
  name: "direct" | "portkey" | "proxy";
  /** The gateway's process, for its CPU time per request (null: not measured). */
  pid: number | null;
  /** The runtime's cloud URL, for the Convex work per request (the proxy's leg). */
  metricsUrl?: string;
  send: (index: number) => Promise<Sample>;
}

interface LegRun {
  summary: Summary;
  work: ConvexWork | null;
}

/**
 * A phase's requests for every leg, in `rounds` rounds: each round sends its share of every leg's
 * requests, one leg after another, and the legs' order turns by one each round. The machine's
 * speed drifts over a run (other work, its host), and a leg measured only at the start of a
 * phase and another only at its end would carry that drift into their difference; in rounds,
 * every leg is measured across the whole phase, from every position in the order.
 */
async function runInRounds(phase: Phase, legs: Leg[], rounds: number, deadline: number): Promise<Record<Leg["name"], LegRun | undefined> & { direct: LegRun; proxy: LegRun }> {
  const count = Math.max(1, Math.min(rounds, phase.total));
  const merged = new Map<Leg["name"], { load: LoadResult; cpuMs: number | null; work: RawMetrics | null; sent: number }>();
  for (const leg of legs) merged.set(leg.name, { load: { samples: [], wallMs: 0, truncated: false }, cpuMs: leg.pid === null ? null : 0, work: null, sent: 0 });
  for (let round = 0; round < count; round++) {
    // Round r sends requests [from, to) of each leg: the shares differ by at most one.
    const from = Math.floor((phase.total * round) / count);
    const to = Math.floor((phase.total * (round + 1)) / count);
    for (let k = 0; k < legs.length; k++) {
      const leg = legs[(round + k) % legs.length];
      const acc = merged.get(leg.name)!;
      // Convex work is counted over the proxy's requests only, once what the previous ones
      // scheduled (settles, rollups) has drained.
      const before = leg.metricsUrl ? await settledMetrics(leg.metricsUrl) : null;
      const cpuBefore = leg.pid === null ? null : processCpuMs(leg.pid);
      const load = await runLoad({ total: to - from, concurrency: phase.concurrency, deadline, send: (i) => leg.send(from + i) });
      const cpuAfter = leg.pid === null ? null : processCpuMs(leg.pid);
      const after = leg.metricsUrl ? await settledMetrics(leg.metricsUrl) : null;
      acc.load.samples.push(...load.samples);
      acc.load.wallMs += load.wallMs;
      acc.load.truncated ||= load.truncated;
      acc.cpuMs = acc.cpuMs !== null && cpuBefore !== null && cpuAfter !== null ? acc.cpuMs + (cpuAfter - cpuBefore) : null;
      if (before && after) {
        acc.work = addCounters(acc.work ?? {}, addCounters(after, before, -1));
        acc.sent += load.samples.length;
      }
    }
  }
  const out: Partial<Record<Leg["name"], LegRun>> = {};
  for (const [name, acc] of merged) {
    const summary = summarize(acc.load);
    // The summed deltas from a zero of the same shape (every counter 0).
    const work = acc.work ? workPerRequest(addCounters(acc.work, acc.work, -1), acc.work, acc.sent) : null;
    out[name] = {
      summary: { ...summary, cpuMsPerRequest: acc.cpuMs !== null && summary.sent > 0 ? acc.cpuMs / summary.sent : null },
      work,
    };
  }
  return out as Record<Leg["name"], LegRun | undefined> & { direct: LegRun; proxy: LegRun };
}

function portkeyVersion(): string {
  const require = createRequire(import.meta.url);
  return (require("@portkey-ai/gateway/package.json") as { version: string }).version;
}

function ms(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(1)} ms` : "n/a";
}

function printScenario(r: ScenarioResult): void {
  const line = (label: string, s: Summary) =>
    `  ${label.padEnd(8)} ok ${s.ok}/${s.sent}  p50 ${ms(s.p50)}  p90 ${ms(s.p90)}  p99 ${ms(s.p99)}  max ${ms(s.max)}  ttfb p50 ${ms(s.ttfbP50)}  ${s.rps.toFixed(1)} req/s` +
    (s.cpuMsPerRequest != null ? `  cpu ${s.cpuMsPerRequest.toFixed(2)} ms/req` : "") +
    (s.failed ? `  failures ${JSON.stringify(s.failures)} first: ${s.firstError}` : "") +
    (s.truncated ? "  (stopped by deadline)" : "");
  console.log(`\n${r.name} (${r.total} requests, concurrency ${r.concurrency})`);
  console.log(line("direct", r.direct));
  if (r.portkey) console.log(line("portkey", r.portkey));
  console.log(line("proxy", r.proxy));
  if (r.portkey) console.log(`  portkey added p50 ${ms(r.portkey.p50 - r.direct.p50)}  p99 ${ms(r.portkey.p99 - r.direct.p99)}`);
  console.log(`  proxy added   p50 ${ms(r.proxy.p50 - r.direct.p50)}  p99 ${ms(r.proxy.p99 - r.direct.p99)}` + (r.stream ? `  ttfb p50 ${ms(r.proxy.ttfbP50 - r.direct.ttfbP50)}` : ""));
  if (r.convex) {
    console.log(
      `  convex per proxied request: app calls ${r.convex.appCalls.toFixed(2)} ${JSON.stringify(r.convex.appPerKind)}, ` +
        `component calls ${r.convex.componentCalls.toFixed(2)} ${JSON.stringify(r.convex.byComponent)}, ` +
        `${r.convex.documentsRead.toFixed(1)} docs read, ${r.convex.documentsWritten.toFixed(1)} written`,
    );
  }
}

runBenchmark("Benchmark", main);

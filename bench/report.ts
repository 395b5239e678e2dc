/** Renders the proxy benchmark's results as docs/benchmarks.md. */
import type { Summary } from "./load.ts";

export interface ConvexWork {
  /** Every function execution per request: the app's and the components'. */
  functionCalls: number;
  /** The app's own functions (convex/) per request, and by kind. */
  appCalls: number;
  appPerKind: Record<string, number>;
  /** Component functions per request (the rate limiter's, the workpool's...), by kind and by component path. */
  componentCalls: number;
  componentPerKind: Record<string, number>;
  byComponent: Record<string, number>;
  /** False when the runtime reports no app/component split (an older backend): all calls count as the app's. */
  componentsCounted: boolean;
  documentsRead: number;
  documentsWritten: number;
}

export interface ScenarioResult {
  name: string;
  total: number;
  concurrency: number;
  stream: boolean;
  direct: Summary;
  /** Through Portkey's gateway; null when that leg did not run (streaming, BENCH_PORTKEY=0). */
  portkey: Summary | null;
  proxy: Summary;
  convex: ConvexWork | null;
}

export interface ReportInput {
  startedAt: Date;
  machine: { cpus: number; cpuModel: string; node: string; os: string; memoryGb: number };
  /** 1-minute load average when the run ended. */
  loadAverage: number;
  settings: {
    upstreamLatencyMs: number;
    completionTokens: number;
    streamTokenIntervalMs: number;
    users: number;
    warmup: number;
    rounds: number;
  };
  mode: "embedded" | "external";
  /** The @portkey-ai/gateway version measured, null when its leg was off. */
  portkeyVersion: string | null;
  results: ScenarioResult[];
}

const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : "n/a");
const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : "n/a");
const signed = (n: number) => (Number.isFinite(n) ? `${n >= 0 ? "+" : ""}${n.toFixed(1)}` : "n/a");

function failures(s: Summary): string {
  if (s.failed === 0) return "0";
  return `${s.failed} (${Object.entries(s.failures).map(([status, n]) => `${status === "0" ? "network" : status}: ${n}`).join(", ")})`;
}

const byKind = (calls: Record<string, number>) =>
  Object.entries(calls)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${f2(n)}`)
    .join(", ") || "none";

export interface TargetCheck {
  target: string;
  /** Portkey's figure, or null where the target is not relative to Portkey (or its leg did not run). */
  portkey: string | null;
  proxy: string;
  /** null when the figures to decide it are missing. */
  met: boolean | null;
}

const f2signed = (n: number) => (Number.isFinite(n) ? `${n >= 0 ? "+" : ""}${n.toFixed(2)}` : "n/a");

/**
 * The proxy's performance targets, decided on the unrounded figures of this run: added p50 at or
 * below Portkey's sequentially and at 16 concurrent, requests/s at 64 concurrent at or above
 * Portkey's, streaming time to first byte added at most 2 ms, and no failed proxied request.
 */
export function targetChecks(results: readonly ScenarioResult[]): TargetCheck[] {
  const json = (name: string) => results.find((r) => !r.stream && r.name === name);
  const stream = results.find((r) => r.stream);
  const added = (r: ScenarioResult, s: Summary) => s.p50 - r.direct.p50;
  const checks: TargetCheck[] = [];
  for (const name of ["sequential", "16 concurrent"]) {
    const r = json(name);
    if (!r) continue;
    const proxy = added(r, r.proxy);
    const portkey = r.portkey ? added(r, r.portkey) : null;
    checks.push({
      target: `${name}: added p50 at or below Portkey's (ms)`,
      portkey: portkey === null ? null : f2signed(portkey),
      proxy: f2signed(proxy),
      met: portkey === null ? null : proxy <= portkey,
    });
  }
  const c64 = json("64 concurrent");
  if (c64) {
    checks.push({
      target: "64 concurrent: requests/s at or above Portkey's",
      portkey: c64.portkey ? f1(c64.portkey.rps) : null,
      proxy: f1(c64.proxy.rps),
      met: c64.portkey ? c64.proxy.rps >= c64.portkey.rps : null,
    });
  }
  if (stream) {
    const ttfb = stream.proxy.ttfbP50 - stream.direct.ttfbP50;
    checks.push({ target: "streaming, sequential: added time to first byte p50 at most 2 ms", portkey: null, proxy: f2signed(ttfb), met: Number.isFinite(ttfb) ? ttfb <= 2 : null });
  }
  const failed = (pick: (r: ScenarioResult) => Summary | null) => results.reduce((n, r) => n + (pick(r)?.failed ?? 0), 0);
  const portkeyRan = results.some((r) => r.portkey);
  // The proxy's own errors; Portkey's are shown beside them, not counted against the proxy.
  checks.push({
    target: "failed requests, every phase",
    portkey: portkeyRan ? String(failed((r) => r.portkey)) : null,
    proxy: String(failed((r) => r.proxy)),
    met: failed((r) => r.proxy) === 0,
  });
  return checks;
}

export function renderReport(input: ReportInput): string {
  const { machine, settings, results } = input;
  const portkeyName = input.portkeyVersion ? `Portkey ${input.portkeyVersion}` : null;
  const latencyRows = results
    .filter((r) => !r.stream)
    .flatMap((r) => {
      const row = (path: string, s: Summary, added: boolean) =>
        `| ${r.name} | ${path} | ${s.ok}/${s.sent} | ${f1(s.p50)} / ${f1(s.p90)} / ${f1(s.p99)} | ` +
        `${added ? `**${signed(s.p50 - r.direct.p50)}** / ${signed(s.p99 - r.direct.p99)}` : "-"} | ${f1(s.rps)} | ` +
        `${added ? (s.cpuMsPerRequest != null ? f2(s.cpuMsPerRequest) : "n/a") : "-"} | ${failures(s)} |`;
      return [
        row("direct", r.direct, false),
        ...(r.portkey && portkeyName ? [row(portkeyName, r.portkey, true)] : []),
        row("**proxy (metered)**", r.proxy, true),
      ];
    });
  const streamRows = results
    .filter((r) => r.stream)
    .map(
      (r) =>
        `| ${r.name} | ${r.proxy.ok}/${r.proxy.sent} | ${f1(r.direct.ttfbP50)} / ${f1(r.direct.ttfbP99)} | ${f1(r.proxy.ttfbP50)} / ${f1(r.proxy.ttfbP99)} | ` +
        `**${signed(r.proxy.ttfbP50 - r.direct.ttfbP50)}** / ${signed(r.proxy.ttfbP99 - r.direct.ttfbP99)} | ` +
        `${signed(r.proxy.p50 - r.direct.p50)} / ${signed(r.proxy.p99 - r.direct.p99)} | ${f1(r.direct.rps)} | ${f1(r.proxy.rps)} | ${failures(r.proxy)} |`,
    );
  const workRows = results.map((r) =>
    r.convex
      ? `| ${r.name} | **${f2(r.convex.appCalls)}** | ${byKind(r.convex.appPerKind)} | ` +
        `${r.convex.componentsCounted ? `**${f2(r.convex.componentCalls)}**` : "not reported"} | ${r.convex.componentsCounted ? byKind(r.convex.byComponent) : "-"} | ` +
        `${f1(r.convex.documentsRead)} | ${f1(r.convex.documentsWritten)} |`
      : `| ${r.name} | n/a | metrics endpoint not available | n/a | - | n/a | n/a |`,
  );
  const runtimeWhere =
    input.mode === "embedded" ? "the offline runtime" : "the running backend";
  const processes =
    `Processes: the simulator, ${portkeyName ? "Portkey's gateway and " : ""}${runtimeWhere} each run in a process of their own, apart from ` +
    "the load generator" +
    (portkeyName
      ? "\n(Portkey with `--headless`, requests sent with `x-portkey-provider: openai` and `x-portkey-custom-host` set to the simulator's `/v1`)"
      : "");
  const truncated = results.filter((r) => r.direct.truncated || r.proxy.truncated || r.portkey?.truncated).map((r) => r.name);
  const checks = targetChecks(results);
  const targetRows = checks.map((c) => `| ${c.target} | ${c.portkey ?? "-"} | ${c.proxy} | ${c.met === null ? "n/a" : c.met ? "**yes**" : "**no**"} |`);

  return `# Benchmarks

## AI proxy overhead (\`npm run bench\`)

What the metered proxy adds on top of the upstream: the same OpenAI chat request is sent straight
to the provider simulator (direct)${portkeyName ? `, through ${portkeyName}'s open-source gateway (\`@portkey-ai/gateway\`, a
plain forwarding gateway without metering, as a reference for what any gateway hop costs)` : ""} and through the
proxy (\`POST /v1/chat/completions\` on the Convex site URL), in one run, on one machine. The simulator
answers after a fixed upstream latency, so the difference to direct is each path's own cost; for the
proxy: key check, rate limit and quota hold, the upstream call, and settlement.

Run: ${input.startedAt.toISOString()} (${input.mode === "embedded" ? "simulator and offline runtime started by the benchmark" : "against a running `npm run backend`"}).
Machine: ${machine.cpus} cores, ${machine.cpuModel}, ${machine.memoryGb} GB, ${machine.os}, Node ${machine.node};
1-minute load average ${input.loadAverage.toFixed(1)} when the run ended (other work on the machine counts too).
Setup: upstream latency ${settings.upstreamLatencyMs} ms before the first byte; replies of ${settings.completionTokens} completion
tokens (\`max_tokens: 32\`); ${settings.users} Pro accounts with one key each, requests spread across them;
${settings.warmup} warm-up requests per path (16 at a time), not counted. Each phase runs in ${settings.rounds} rounds: every
round sends 1/${settings.rounds} of each path's requests, one path after another, the paths' order turning by one each round, so
a change in the machine's speed during a phase reaches every path alike. ${processes}. All of them share the machine's cores. Gateway CPU
is the CPU time (user + system, from \`/proc\`) the gateway's process used during the phase, per request:
Portkey's process, or the runtime's (which includes anything else it ran meanwhile, crons and scheduled work).

### Targets

Decided on this run's unrounded figures (the tables below round them). The streaming target is
absolute: Portkey's streaming does not work (below).

| target | Portkey | proxy | met |
| --- | --- | --- | --- |
${targetRows.join("\n")}

### Added latency (JSON), milliseconds

| scenario | path | ok | p50 / p90 / p99 | added p50 / p99 vs direct | req/s | gateway CPU ms / request | errors |
| --- | --- | --- | --- | --- | --- | --- | --- |
${latencyRows.join("\n")}

### Streaming (\`stream: true\`, \`include_usage\`), milliseconds

Time to first byte is the first SSE event; the simulator spaces chunks ${settings.streamTokenIntervalMs} ms apart.${portkeyName ? `
Portkey is not measured here: streaming through \`@portkey-ai/gateway\` ${input.portkeyVersion} on Node fails upstream of this
project (every streamed request answers 500 \`{"status":"failure","message":"Something went wrong"}\` and the
gateway logs \`tryTargetsRecursively error: immutable ... TypeError: immutable\`), so there is no figure to compare.` : ""}

| scenario | proxied ok | direct TTFB p50 / p99 | proxy TTFB p50 / p99 | added TTFB p50 / p99 | added total p50 / p99 | direct req/s | proxy req/s | proxy errors |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |
${streamRows.join("\n")}

### Convex work per proxied request

From the runtime's cumulative \`/_dev/metrics\` (delta over the phase / requests sent), read after
scheduled work has drained. App calls are executions of the app's own functions (\`convex/\`: the
httpAction and the functions it runs); component calls are the functions of the components those
call (the rate limiter's, the workpool's), counted apart. Crons that ran during the phase count too.

| scenario | app function calls | app calls by kind | component calls | by component | documents read | documents written |
| --- | --- | --- | --- | --- | --- | --- |
${workRows.join("\n")}
${truncated.length ? `\nStopped by the time limit before all requests were sent: ${truncated.join(", ")}.\n` : ""}
### Reading these numbers

- They come from the offline runtime (\`dev/runtime/\`), which runs the unmodified \`convex/\`
  functions on convex-test: mutations are serialized and every function runs in one Node
  process. A Convex deployment runs mutations in parallel with OCC and adds network hops, so treat
  the absolute figures as this machine's, and the per-request function and document counts as
  the portable part.
- On this 2-core machine the load generator, the simulator, Portkey and the runtime compete for
  CPU (with anything else running), so repeated runs differ. Compare figures from one run, or
  repeat a run before drawing conclusions.
- Added latency is the difference of percentiles (path p50 minus direct p50), not a percentile
  of per-request differences.
- Requests per second count successful requests over the phase's wall time. At 64 concurrent
  requests both gateways are CPU-bound on this machine, and the p99 tails are queueing: requests
  (the first ones on new connections most) wait for a busy event loop, in Portkey's process as in
  the runtime's. The offline runtime also runs its mutations one at a time (in arrival order).
- Repeated runs on this machine do not meet every target every time. The margins are small next
  to a run's noise: sequentially a few tenths of a millisecond, at 16 concurrent a few tenths to
  one, at 64 concurrent a few percent. A run that misses one misses it narrowly, and a different
  one each time. A proxied request also takes the runtime's event loop three times (its request,
  the provider's reply, and \`settle\` once the reply is out) where Portkey's takes two, so
  requests in flight wait behind more pieces of work.
- Gateway CPU per request is the most stable figure across runs: it moves less with the machine's
  load than latencies do. At 64 concurrent requests the rate either gateway can serve is roughly
  1000 / (its CPU ms per request), minus what the other processes take from the two cores. In
  one run measured for it, the load generator and the simulator together used 0.05 ms more CPU
  per proxied request than per Portkey request (0.85 against 0.80; the proxy's replies carry more
  headers, its rate limits and request id), so a lower gateway figure does not always become a
  higher rate.
- Documents per request: the request's own functions read 5 and write 3 (\`begin\`: key, account
  and the month's balance document, which it writes; \`settle\`: account and balance, writing the
  balance and one usage event; all of them fetched by id once a key has been used), plus the key's last use written at most once a minute, whatever the
  request rate, concurrency or history (\`docs/proxy.md\`). The rest is the crons that ran during the
  phase, spread over its requests: the usage rollup reads each new event once more, and a cron
  that happens to fire in a short phase (the 5-minute overage report, the minute's hold tidy) shows
  as a bump in that phase alone; a longer phase of the same kind reads about 7.5.
- What the proxy does that a forwarding gateway does not, and where the runtime's CPU goes (its
  profile: \`dev/runtime/README.md\`, "Performance: function calls"): two mutations per request
  (\`begin\` before the upstream call, \`settle\` after it; a JSON reply goes out whole, with its
  length, while \`settle\` runs, so \`settle\` costs CPU but not latency), the httpAction's \`Request\` and \`Response\` with
  their Web streams, and the value copies between the action and its mutations. The largest single
  items are the same for both gateways: socket writes (two loopback writes per JSON request, one
  more per SSE chunk) and garbage collection. A stream's first byte waits for \`begin\` and the
  upstream call but not for \`settle\`. Where a sequential request's own time goes, step by step:
  \`dev/runtime/README.md\`, "Performance: function calls".
- Node flags: the runtime's process starts with a 64 MB V8 semi-space (\`dev/runtime/nodeFlags.ts\`,
  as \`npm run dev\` starts it), which cuts its young-generation collections under load; Portkey's
  gateway runs as its CLI starts it, with Node's defaults.
- Every path gets the same warm-up before the first phase, long enough for V8 to optimize its hot
  code; the figures are each gateway's steady state. Shorter runs (\`BENCH_*\` below) measure
  more of the first compilation and of whatever cron happens to run in a phase.

### Re-running

\`npm run bench\` takes a few minutes and stops by itself (\`BENCH_MAX_SECONDS\`, default 420).
Variables: \`BENCH_URL\` (site URL of a running backend; then \`BENCH_CLOUD_URL\`, default
http://127.0.0.1:3210, and \`BENCH_SIMULATOR_URL\`, default http://127.0.0.1:3220, whose config is
restored afterwards), \`BENCH_PORTKEY\` (0 to skip the Portkey leg), \`BENCH_LATENCY_MS\` (50),
\`BENCH_SEQUENTIAL\` (300), \`BENCH_C16_REQUESTS\` (2000), \`BENCH_C64_REQUESTS\` (3000), \`BENCH_STREAM_REQUESTS\` (200),
\`BENCH_WARMUP\` (400), \`BENCH_USERS\` (8), \`BENCH_COMPLETION_TOKENS\` (16), \`BENCH_STREAM_TOKEN_INTERVAL_MS\` (2),
\`BENCH_WRITE_DOCS\` (0 to only print). \`RUNTIME_CPU_PROFILE=<file.cpuprofile>\` records a CPU profile of the
runtime's process (\`RUNTIME_CPU_PROFILE_INTERVAL_US\` for a finer sampling interval). Load only ever goes to loopback addresses; Portkey's CLI has no
host option, so it listens on all interfaces of this machine while the benchmark runs.
`;
}

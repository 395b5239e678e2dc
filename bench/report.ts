/** Renders the proxy benchmark's results as docs/benchmarks.md. */
import type { Summary } from "./load.ts";

export interface ConvexWork {
  functionCalls: number;
  perKind: Record<string, number>;
  documentsRead: number;
  documentsWritten: number;
}

export interface ScenarioResult {
  name: string;
  total: number;
  concurrency: number;
  stream: boolean;
  direct: Summary;
  proxy: Summary;
  convex: ConvexWork | null;
}

export interface ReportInput {
  startedAt: Date;
  machine: { cpus: number; cpuModel: string; node: string; os: string; memoryGb: number };
  settings: {
    upstreamLatencyMs: number;
    completionTokens: number;
    streamTokenIntervalMs: number;
    users: number;
    warmup: number;
  };
  mode: "embedded" | "external";
  results: ScenarioResult[];
}

const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : "n/a");
const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : "n/a");
const signed = (n: number) => (Number.isFinite(n) ? `${n >= 0 ? "+" : ""}${n.toFixed(1)}` : "n/a");

function failures(s: Summary): string {
  if (s.failed === 0) return "0";
  return `${s.failed} (${Object.entries(s.failures).map(([status, n]) => `${status === "0" ? "network" : status}: ${n}`).join(", ")})`;
}

export function renderReport(input: ReportInput): string {
  const { machine, settings, results } = input;
  const latencyRows = results
    .filter((r) => !r.stream)
    .map(
      (r) =>
        `| ${r.name} | ${r.proxy.ok}/${r.proxy.sent} | ${f1(r.direct.p50)} / ${f1(r.direct.p90)} / ${f1(r.direct.p99)} | ${f1(r.proxy.p50)} / ${f1(r.proxy.p90)} / ${f1(r.proxy.p99)} | ` +
        `**${signed(r.proxy.p50 - r.direct.p50)} / ${signed(r.proxy.p99 - r.direct.p99)}** | ${f1(r.direct.rps)} | ${f1(r.proxy.rps)} | ${failures(r.proxy)} |`,
    );
  const streamRows = results
    .filter((r) => r.stream)
    .map(
      (r) =>
        `| ${r.name} | ${r.proxy.ok}/${r.proxy.sent} | ${f1(r.direct.ttfbP50)} / ${f1(r.direct.ttfbP99)} | ${f1(r.proxy.ttfbP50)} / ${f1(r.proxy.ttfbP99)} | ` +
        `**${signed(r.proxy.ttfbP50 - r.direct.ttfbP50)} / ${signed(r.proxy.ttfbP99 - r.direct.ttfbP99)}** | ` +
        `${signed(r.proxy.p50 - r.direct.p50)} / ${signed(r.proxy.p99 - r.direct.p99)} | ${f1(r.direct.rps)} | ${f1(r.proxy.rps)} | ${failures(r.proxy)} |`,
    );
  const workRows = results.map((r) =>
    r.convex
      ? `| ${r.name} | ${f2(r.convex.functionCalls)} | ${Object.entries(r.convex.perKind).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${f2(n)}`).join(", ") || "none"} | ${f1(r.convex.documentsRead)} | ${f1(r.convex.documentsWritten)} |`
      : `| ${r.name} | n/a | metrics endpoint not available | n/a | n/a |`,
  );
  const truncated = results.filter((r) => r.direct.truncated || r.proxy.truncated).map((r) => r.name);

  return `# Benchmarks

## AI proxy overhead (\`npm run bench\`)

What the metered proxy adds on top of the upstream: the same OpenAI chat request is sent straight
to the provider simulator and through the proxy (\`POST /v1/chat/completions\` on the Convex site
URL), in one run, on one machine. The simulator answers after a fixed upstream latency, so the
difference is the proxy's own cost: key check, rate limit and quota hold, the upstream call,
and settlement.

Run: ${input.startedAt.toISOString()} (${input.mode === "embedded" ? "simulator and offline runtime started by the benchmark" : "against a running `npm run backend`"}).
Machine: ${machine.cpus} cores, ${machine.cpuModel}, ${machine.memoryGb} GB, ${machine.os}, Node ${machine.node}.
Setup: upstream latency ${settings.upstreamLatencyMs} ms before the first byte; replies of ${settings.completionTokens} completion
tokens (\`max_tokens: 32\`); ${settings.users} Pro accounts with one key each, requests spread across them;
${settings.warmup} warm-up requests per path, not counted. The load generator, the simulator and the
runtime share the machine's cores.

### Added latency (JSON), milliseconds

| scenario | proxied ok | direct p50 / p90 / p99 | proxy p50 / p90 / p99 | added p50 / p99 | direct req/s | proxy req/s | proxy errors |
| --- | --- | --- | --- | --- | --- | --- | --- |
${latencyRows.join("\n")}

### Streaming (\`stream: true\`, \`include_usage\`), milliseconds

Time to first byte is the first SSE event; the simulator spaces chunks ${settings.streamTokenIntervalMs} ms apart.

| scenario | proxied ok | direct TTFB p50 / p99 | proxy TTFB p50 / p99 | added TTFB p50 / p99 | added total p50 / p99 | direct req/s | proxy req/s | proxy errors |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |
${streamRows.join("\n")}

### Convex work per proxied request

From the runtime's cumulative \`/_dev/metrics\` (delta over the phase / requests sent), read after
scheduled work has drained. Function calls include the component functions the proxy's own
functions call (the rate limiter's), and any cron that ran during the phase.

| scenario | function calls | by kind | documents read | documents written |
| --- | --- | --- | --- | --- |
${workRows.join("\n")}
${truncated.length ? `\nStopped by the time limit before all requests were sent: ${truncated.join(", ")}.\n` : ""}
### Reading these numbers

- They come from the offline runtime (\`dev/runtime/\`), which runs the unmodified \`convex/\`
  functions on convex-test: mutations are serialized and every function runs in one Node
  process. A Convex deployment runs mutations in parallel with OCC and adds network hops, so treat
  the absolute figures as this machine's, and the per-request function and document counts as
  the portable part.
- On this 2-core machine the load generator, the simulator and the runtime compete for CPU
  (with anything else running), so repeated runs differ: two back-to-back runs of the
  64-concurrent phase on the same code measured 52 and 103 proxied req/s. Compare figures from
  one run, or repeat a run before drawing conclusions.
- Added latency is the difference of percentiles (proxy p50 minus direct p50), not a percentile
  of per-request differences.
- Requests per second count successful requests over the phase's wall time; at 16 and 64
  concurrent requests the offline runtime's serialized mutations are the limit, which is also
  where the long p99 tails come from.
- Documents read per request is not a constant: admitting a request reads the account's usage
  events recorded since the last rollup (the "usage rollup" cron in \`convex/crons.ts\`), so it
  grows with each account's request rate between rollups. Writes per request stay flat.

### Re-running

\`npm run bench\` takes a few minutes and stops by itself (\`BENCH_MAX_SECONDS\`, default 420).
Variables: \`BENCH_URL\` (site URL of a running backend; then \`BENCH_CLOUD_URL\`, default
http://127.0.0.1:3210, and \`BENCH_SIMULATOR_URL\`, default http://127.0.0.1:3220, whose config is
restored afterwards), \`BENCH_LATENCY_MS\` (50), \`BENCH_SEQUENTIAL\` (200), \`BENCH_C16_REQUESTS\` (320),
\`BENCH_C64_REQUESTS\` (640), \`BENCH_STREAM_REQUESTS\` (100), \`BENCH_WARMUP\` (20), \`BENCH_USERS\` (8),
\`BENCH_COMPLETION_TOKENS\` (16), \`BENCH_STREAM_TOKEN_INTERVAL_MS\` (2), \`BENCH_WRITE_DOCS\` (0 to only
print). Load only ever goes to loopback addresses.
`;
}

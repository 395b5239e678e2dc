/**
 * Self-service signup benchmark: concurrent signups through the real clients, each timed from
 * the `signup.account.ensure` call to a usable API key and to the captured welcome mail; then a
 * flood of signups from one address against the per-IP limit.
 *
 *   npm run bench:signup     # starts its own simulator and offline runtime (also part of npm run bench)
 *
 * The runtime is started with `trustForwardedFor`, so each simulated person's X-Forwarded-For
 * is the client IP the signup limits see (every local client is 127.0.0.1 otherwise). Writes its
 * section of docs/benchmarks.md. See docs/benchmarks.md for every BENCH_* variable.
 */
import os from "node:os";
import OpenAI from "openai";
import WebSocket from "ws";
import { ConvexClient } from "convex/browser";
import { api } from "../convex/_generated/api.js";
import { intEnv, publishReport, runBenchmark, startBenchStack, type BenchStack } from "./stack.ts";
import { assertLoopback, percentile } from "./load.ts";
import { authenticate, devToken } from "./devSignIn.ts";

const settings = {
  signups: intEnv("BENCH_SIGNUPS", 100),
  sequential: intEnv("BENCH_SIGNUP_SEQUENTIAL", 10),
  flood: intEnv("BENCH_SIGNUP_FLOOD", 30),
  /** How long one signup may take to reach a usable key and a captured mail. */
  timeoutMs: intEnv("BENCH_SIGNUP_TIMEOUT_S", 120) * 1000,
  /** How often each signup asks the simulator for its mail (the capture time is the simulator's). */
  mailPollMs: intEnv("BENCH_SIGNUP_MAIL_POLL_MS", 200),
  writeDocs: process.env.BENCH_WRITE_DOCS !== "0",
};

/** The per-IP limit the flood runs into (convex/model/signup/policy.ts). */
const PER_IP_PER_HOUR = 10;

type Stack = BenchStack;

async function startStack(): Promise<Stack> {
  // Each simulated person presents their own address through X-Forwarded-For.
  return await startBenchStack({ name: "signup", trustForwardedFor: true });
}

/** A WebSocket that presents `ip` as X-Forwarded-For on its upgrade request. */
function socketFrom(ip: string) {
  return class extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { headers: { "x-forwarded-for": ip, "user-agent": "poindexter-bench-signup" } });
    }
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface SignupSample {
  email: string;
  status: "created" | "existing" | "refused" | "error";
  reason?: string;
  /** ensure sent -> ensure resolved. */
  ensureMs?: number;
  /** ensure sent -> the first proxied chat completion with the new key succeeded. */
  keyUsableMs?: number;
  /** ensure sent -> the simulator captured the welcome mail (its own capture time). */
  mailMs?: number;
  error?: string;
}

/** The first chat completion through the proxy with `secret`, retried until it works or time runs out. */
async function firstCompletion(site: string, secret: string, until: number): Promise<number | string> {
  const openai = new OpenAI({ apiKey: secret, baseURL: `${site}/v1`, maxRetries: 0, timeout: 30_000 });
  let lastError = "";
  while (Date.now() < until) {
    try {
      const reply = await openai.chat.completions.create({
        model: "gpt-4o-mini",
        messages: [{ role: "user", content: "Say hello to a new customer." }],
        max_tokens: 16,
      });
      if (reply.choices.length > 0) return performance.now();
      lastError = "no choices in the reply";
    } catch (e) {
      lastError = (e as Error).message;
    }
    await sleep(50);
  }
  return `key not usable in time: ${lastError}`;
}

/** When the simulator captured the first mail to `email` (epoch ms), polling its inbox. */
async function mailCapturedAt(simUrl: string, email: string, until: number): Promise<number | string> {
  while (Date.now() < until) {
    const response = await fetch(`${simUrl}/_sim/inbox.json?to=${encodeURIComponent(email)}`);
    const { messages } = (await response.json()) as { messages: { at: number }[] };
    if (messages.length > 0) return Math.min(...messages.map((m) => m.at));
    await sleep(settings.mailPollMs);
  }
  return "no mail captured in time";
}

/** One person: dev sign-in token, then ensure over the Convex client from `ip`; then the key and the mail. */
async function signUp(stack: Stack, email: string, ip: string, measure: boolean): Promise<SignupSample> {
  const site = stack.runtime.urls.site;
  const client = new ConvexClient(stack.runtime.urls.cloud, {
    webSocketConstructor: socketFrom(ip) as never,
    unsavedChangesWarning: false,
    logger: false,
  });
  try {
    const token = await devToken(site, email);
    // Signed in and connected before the clock starts, as the SPA is when it calls ensure:
    // the measurement is the signup, not the WebSocket handshake and token check.
    await authenticate(client, token);
    const startedWall = Date.now();
    const started = performance.now();
    const result = await client.mutation(api.signup.account.ensure, {});
    const ensureMs = performance.now() - started;
    if (result.status !== "created") {
      return { email, status: result.status, reason: result.status === "refused" ? result.reason : undefined, ensureMs };
    }
    if (!measure) return { email, status: "created", ensureMs };
    const until = Date.now() + settings.timeoutMs;
    const [key, mail] = await Promise.all([
      firstCompletion(site, result.firstKey.secret, until),
      mailCapturedAt(stack.sim.url, email, until),
    ]);
    const sample: SignupSample = { email, status: "created", ensureMs };
    const errors: string[] = [];
    if (typeof key === "number") sample.keyUsableMs = key - started;
    else errors.push(key);
    if (typeof mail === "number") sample.mailMs = mail - startedWall;
    else errors.push(mail);
    if (errors.length) sample.error = errors.join("; ");
    return sample;
  } catch (e) {
    return { email, status: "error", error: (e as Error).message };
  } finally {
    await client.close();
  }
}

/** 198.18.0.0/15 is reserved for benchmarks (RFC 2544): address i of the distinct-IP phase. */
function benchIp(i: number): string {
  return `198.18.${Math.floor(i / 250)}.${(i % 250) + 1}`;
}
const FLOOD_IP = "198.19.0.1";

const f0 = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : "n/a");

interface PhaseResult {
  name: string;
  wallMs: number;
  samples: SignupSample[];
}

interface Results {
  startedAt: Date;
  loadAverage: number;
  /** The one-at-a-time baseline, then the concurrent phase the figures are about. */
  phases: PhaseResult[];
  flood: SignupSample[];
}

function isComplete(s: SignupSample): boolean {
  return s.status === "created" && s.keyUsableMs !== undefined && s.mailMs !== undefined;
}

const p50p95 = (values: number[]) => `${f0(percentile(values, 50))} / ${f0(percentile(values, 95))}`;

function phaseRow(p: PhaseResult): string {
  const complete = p.samples.filter(isComplete);
  const ensure = p.samples.filter((s) => s.ensureMs !== undefined).map((s) => s.ensureMs!);
  return (
    `| ${p.name} | **${complete.length}/${p.samples.length}** | ${p50p95(ensure)} | **${p50p95(complete.map((s) => s.keyUsableMs!))}** | ` +
    `**${p50p95(complete.map((s) => s.mailMs!))}** | ${(p.wallMs / 1000).toFixed(1)} |`
  );
}

function failureLines(phases: PhaseResult[]): string {
  const failed = phases.flatMap((p) => p.samples.filter((s) => !isComplete(s)));
  const shown = failed.slice(0, 10).map((f) => `- ${f.email}: ${f.status}${f.reason ? ` (${f.reason})` : ""}${f.error ? `: ${f.error}` : ""}`);
  if (failed.length > shown.length) shown.push(`- and ${failed.length - shown.length} more`);
  return shown.length ? `Failures:\n\n${shown.join("\n")}` : "Failures: none.";
}

function render(r: Results): string {
  const cpus = os.cpus();
  const floodCreated = r.flood.filter((s) => s.status === "created").length;
  const refusalCounts: Record<string, number> = {};
  for (const s of r.flood) if (s.status !== "created") refusalCounts[s.reason ?? s.status] = (refusalCounts[s.reason ?? s.status] ?? 0) + 1;
  const refusals = Object.entries(refusalCounts).map(([reason, n]) => `${n} ${reason}`).join(", ") || "none";
  return `## Self-service signup (\`npm run bench:signup\`)

${settings.signups} people sign up at the same time, each with a distinct valid email from a distinct client IP,
the way the SPA does it: a sign-in token (the dev issuer's \`POST /dev-auth/token\`, standing in for
Clerk), then \`signup.account.ensure\` over the WebSocket client (\`ConvexClient\`). For each signup the
benchmark measures, from the moment \`ensure\` is sent (on a connection already authenticated, as
the SPA's is after sign-in):

- **key usable**: the first \`POST /v1/chat/completions\` through the proxy with the returned key
  (the \`openai\` SDK, retried every 50 ms until it succeeds) has answered;
- **welcome mail captured**: the provider simulator captured the welcome mail (its own capture
  time; the benchmark polls \`GET /_sim/inbox.json?to=<email>\` every ${settings.mailPollMs} ms to find it).

Run: ${r.startedAt.toISOString()} (simulator and offline runtime started by the benchmark, in its process).
Machine: ${cpus.length} cores, ${cpus[0]?.model.trim() ?? "unknown"}, ${Math.round(os.totalmem() / 2 ** 30)} GB, ${os.type()} ${os.release()} ${os.arch()}, Node ${process.version};
1-minute load average ${r.loadAverage.toFixed(1)} when the run started (other work on the machine counts too).
Setup: the runtime started with \`trustForwardedFor\`, each person's WebSocket sending its own
\`X-Forwarded-For\` (198.18.0.0/15, the benchmarking range), so the per-IP limit sees one client per
person; the simulator with its default config (no added upstream latency); welcome mail through
the \`providerPool\` workpool (at most 10 sends at a time) to the simulator's email API. One
warm-up signup first, not counted; then ${settings.sequential} signups one after another as an
uncontended baseline; then the ${settings.signups} at once.

| phase | succeeded | \`ensure\` p50 / p95 ms | key usable p50 / p95 ms | welcome mail p50 / p95 ms | wall s |
| --- | --- | --- | --- | --- | --- |
${r.phases.map(phaseRow).join("\n")}

A signup succeeded when \`ensure\` created the account, its key worked and its welcome mail was
captured within ${settings.timeoutMs / 1000} s. ${failureLines(r.phases)}

Flood: ${r.flood.length} signups at once from ONE address (${FLOOD_IP}), distinct emails: **${floodCreated} got through**
(the limit is ${PER_IP_PER_HOUR} per IP per hour); the rest were refused: ${refusals}.

Reading these numbers: \`ensure\` is one mutation (account, trial, first key, mail queued). The
offline runtime runs mutations one at a time, so ${settings.signups} concurrent signups queue behind each
other and behind the proxied requests and mail sends of the others; that queue, not the work of one
signup (the baseline row), is where the concurrent figures come from. A Convex deployment runs
mutations in parallel. Mail time includes the workpool's scheduling and its parallelism of 10.
The load generator, the simulator and the runtime share the machine's cores. Variables:
\`BENCH_SIGNUPS\` (100), \`BENCH_SIGNUP_SEQUENTIAL\` (10), \`BENCH_SIGNUP_FLOOD\` (30),
\`BENCH_SIGNUP_TIMEOUT_S\` (120), \`BENCH_SIGNUP_MAIL_POLL_MS\` (200), \`BENCH_WRITE_DOCS\` (0 to only print).
Load only ever goes to loopback addresses.
`;
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const loadAverage = os.loadavg()[0];
  console.log("Starting the provider simulator and the offline runtime (trustForwardedFor)...");
  const stack = await startStack();
  for (const url of [stack.runtime.urls.site, stack.runtime.urls.cloud, stack.sim.url]) assertLoopback(url);
  try {
    const run = Date.now().toString(36);
    let person = 0;
    const next = () => {
      const i = person++;
      return { email: `person-${run}-${i}@bench.poindexter.dev`, ip: benchIp(i) };
    };
    // One signup first, not counted: module loading and JIT warm-up.
    const warmup = next();
    const warm = await signUp(stack, warmup.email, warmup.ip, true);
    if (warm.status !== "created" || warm.error) throw new Error(`The warm-up signup failed: ${JSON.stringify(warm)}`);

    const phases: PhaseResult[] = [];
    console.log(`${settings.sequential} signups one after another...`);
    let t0 = performance.now();
    const sequential: SignupSample[] = [];
    for (let i = 0; i < settings.sequential; i++) {
      const p = next();
      sequential.push(await signUp(stack, p.email, p.ip, true));
    }
    if (settings.sequential > 0) phases.push({ name: "one at a time", wallMs: performance.now() - t0, samples: sequential });

    console.log(`${settings.signups} concurrent signups from distinct addresses...`);
    const people = Array.from({ length: settings.signups }, next);
    t0 = performance.now();
    const concurrent = await Promise.all(people.map((p) => signUp(stack, p.email, p.ip, true)));
    phases.push({ name: `${settings.signups} at once`, wallMs: performance.now() - t0, samples: concurrent });

    console.log(`${settings.flood} signups at once from ${FLOOD_IP}...`);
    const flood = await Promise.all(
      Array.from({ length: settings.flood }, (_, i) => signUp(stack, `flood-${run}-${i}@bench.poindexter.dev`, FLOOD_IP, false)),
    );

    const report = render({ startedAt, loadAverage, phases, flood });
    console.log(`\n${report}`);
    if (settings.writeDocs) {
      publishReport(report);
    }
  } finally {
    await stack.close();
  }
}

runBenchmark("Signup benchmark", main);

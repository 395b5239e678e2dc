/**
 * The soak test: `npm run soak` drives the backend for SOAK_MINUTES (default 10) with mixed
 * traffic over 50 accounts and one graceful restart in the middle, then proves from the backend's
 * own data that nothing was lost or billed twice (reconcile.ts). Loopback only; exits non-zero on
 * any failed check, and at the hard ceiling (SOAK_MINUTES + 5 minutes). See bench/soak/README.md.
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { devEnv, devSimulatorBilling } from "../../dev/env.ts";
import { mulberry32 } from "../../dev/simulator/tokens.ts";
import type { PlanId } from "../../convex/model/plans.ts";
import { assertLoopback, percentile } from "../load.ts";
import { intEnv, publishReport, startSimulatorProcess, type BenchProcess } from "../stack.ts";
import {
  adminClient,
  buyPlan,
  provisionCredential,
  reportOverageNow,
  rotateKey,
  seedUsage,
  signUp,
  Simulator,
  soakIp,
  type Customer,
} from "./accounts.ts";
import { freePort, readTables, startRuntimeAt, type RuntimePlace, type SoakRuntime } from "./processes.ts";
import {
  reconcileOverage,
  reconcileUsage,
  reconcileWebhooks,
  type AccountRow,
  type BalanceRow,
  type ClientAttempt,
  type LedgerEvent,
  type OverageCursorRow,
  type OverageOutboxRow,
  type SeededUsage,
  type ServedRow,
  type WebhookEventRow,
} from "./reconcile.ts";
import { promptOf, sendChat, type ChatPlan } from "./traffic.ts";

function numberEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got "${raw}".`);
  return value;
}

const settings = {
  minutes: numberEnv("SOAK_MINUTES", 10),
  accounts: Math.max(10, intEnv("SOAK_ACCOUNTS", 50)),
  /** Chat requests started per second (each an SDK call; retries of connection errors come on top). */
  rps: numberEnv("SOAK_RPS", 8),
  /** At most this many requests open at once. */
  concurrency: Math.max(1, intEnv("SOAK_CONCURRENCY", 24)),
  seed: intEnv("SOAK_SEED", 13),
  writeDocs: process.env.SOAK_WRITE_DOCS !== "0",
  /** Writes the run's evidence (attempts, served list, ledger rows, failures) as JSON here. */
  evidenceDir: process.env.SOAK_EVIDENCE_DIR || null,
};

/** Shares of the traffic (issue 13): 25 % streamed, 5 % client aborts, 2 % upstream cuts, 2 % upstream 5xx. */
const MIX = { stream: 0.25, abort: 0.05, upstreamCut: 0.02, upstream5xx: 0.02 };
const MAX_OUTPUT = 64;
const MODEL = "gpt-4o-mini";
/** The upstream: 20-60 ms to the first byte, 6 ms per token (a 8-48 token reply streams in 50-300 ms). */
const UPSTREAM = { latencyMs: 20, tokenIntervalMs: 6 };
/** How long the old runtime may drain before it gives up (RUNTIME_DRAIN_MS). */
const DRAIN_MS = 20_000;
/** Rotated keys keep working this long: every request sent with the old key before the switch lands in it. */
const KEY_GRACE_HOURS = 0.05;
/** Paid accounts' seeded input: 250,000 tokens past Basic's 5M included, so overage chunks go out. */
const OVERAGE_SEED_TOKENS = 5_250_000;
/** Trial accounts seeded this close to their 500K hard cap, so their traffic runs into it. */
const NEAR_CAP_SEED_TOKENS = 499_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Restart {
  signalAt: number;
  exitedAt: number;
  readyAt: number;
  drain: { drained: boolean; inFlightAtStart: number; inFlightLeft: number; waitedMs: number } | null;
  /** First to last connection error: how long the clients found no backend. */
  clientGapMs: number | null;
  /** Client requests open when the signal came (answered by the draining runtime). */
  inFlightAtSignal: number;
}

interface Leg {
  name: string;
  ok: number;
  failed: number;
  notes: string[];
}

function leg(name: string): Leg {
  return { name, ok: 0, failed: 0, notes: [] };
}

async function main(): Promise<void> {
  const startedAt = Date.now();
  const ceilingMs = (settings.minutes + 5) * 60_000;
  const ceiling = setTimeout(() => {
    console.error(`\nThe soak ran past its ceiling (${settings.minutes} + 5 minutes); stopping.`);
    process.exit(1);
  }, ceilingMs);
  ceiling.unref();
  const random = mulberry32(settings.seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];
  const shuffle = <T>(list: readonly T[]): T[] => {
    const out = [...list];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  };
  const log = (msg: string) => console.log(`[soak ${((Date.now() - startedAt) / 1000).toFixed(0).padStart(4)} s] ${msg}`);

  // -------------------------------------------------------------------------------------------
  // Processes
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "poindexter-soak-"));
  let simProcess: BenchProcess | null = null;
  let runtime: SoakRuntime | null = null;
  const cleanup = async () => {
    await runtime?.stop().catch(() => undefined);
    await simProcess?.close().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    simProcess = await startSimulatorProcess();
    assertLoopback(simProcess.url);
    const sim = new Simulator(simProcess.url);
    const [port, sitePort] = [await freePort(), await freePort()];
    const siteUrl = `http://127.0.0.1:${sitePort}`;
    const place: RuntimePlace = { dataDir, port, sitePort, env: devEnv(dataDir, sim.url, "http://127.0.0.1:5173"), drainMs: DRAIN_MS };
    await sim.configure({
      ...UPSTREAM,
      seed: settings.seed,
      // Every request of the run stays readable to the end (GET /_sim/served).
      requestLogSize: 100_000,
      ...devSimulatorBilling(siteUrl),
      providerFaults: {
        openai: {
          failProbability: MIX.upstream5xx,
          failStatus: 500,
          // Only streams can be cut: 2 % of all requests is 8 % of the streamed quarter.
          cutProbability: MIX.upstreamCut / MIX.stream,
          cutAfterMinChunks: 2,
          cutAfterMaxChunks: 12,
        },
      },
    });
    runtime = await startRuntimeAt(place);
    assertLoopback(runtime.urls.site);
    log(`simulator ${sim.url}, runtime ${runtime.urls.cloud} / ${runtime.urls.site}, data in ${dataDir}`);
    const urls = () => runtime!.urls;
    const admin = () => adminClient(urls().cloud, runtime!.adminKey);

    // -----------------------------------------------------------------------------------------
    // Accounts: signups, checkouts (in order and reordered), seeds, credentials
    const customers: Customer[] = [];
    const legs = {
      signups: leg("signups"),
      checkouts: leg("checkouts"),
      renewals: leg("renewals"),
      keyRotations: leg("key rotations"),
      credentials: leg("credential rotations (POST /api/provisioning/token)"),
      overage: leg("overage reports"),
    };
    let signupSeq = 0;
    const signupOne = async (late: boolean) => {
      const i = signupSeq++;
      const customer = await signUp(urls(), `soak-${i}@example.com`, soakIp(i), late);
      customers.push(customer);
      legs.signups.ok += 1;
      return customer;
    };
    for (let i = 0; i < settings.accounts; i += 8) {
      await Promise.all(Array.from({ length: Math.min(8, settings.accounts - i) }, () => signupOne(false)));
    }
    log(`${customers.length} accounts signed up`);

    const paid = customers.slice(0, Math.round(settings.accounts * 0.4));
    const planFor = (i: number): "basic" | "pro" => (i % 5 < 3 ? "basic" : "pro");
    const inOrder = paid.filter((_, i) => i % 2 === 0);
    const reordered = paid.filter((_, i) => i % 2 === 1);
    const sessions = new Map<string, string>();
    // In order: each checkout's webhooks arrive as the provider sends them; then duplicates.
    for (const c of inOrder) {
      const plan = planFor(paid.indexOf(c));
      sessions.set(c.email, await buyPlan(urls(), sim.url, c, plan));
      c.plan = plan;
      legs.checkouts.ok += 1;
    }
    // Reordered: the provider's deliveries are held back, then sent shuffled, each twice.
    const webhookUrl = `${urls().site}/webhooks/stripe`;
    const lastSeq = Math.max(0, ...(await sim.webhooks()).map((d) => d.seq));
    await sim.configure({ stripe: { webhookUrl: null } });
    for (const c of reordered) {
      const plan = planFor(paid.indexOf(c));
      sessions.set(c.email, await buyPlan(urls(), sim.url, c, plan));
      c.plan = plan;
      legs.checkouts.ok += 1;
    }
    await sim.configure({ stripe: { webhookUrl } });
    const held = (await sim.webhooks()).filter((d) => d.seq > lastSeq && d.status === null);
    for (const pass of [shuffle(held), shuffle(held)]) {
      for (const d of pass) {
        const answer = await sim.redeliver(d.seq, webhookUrl);
        if (answer.status !== 200) {
          legs.checkouts.failed += 1;
          legs.checkouts.notes.push(`redelivery of ${d.eventId} answered ${answer.status ?? answer.error}`);
        }
      }
    }
    // Duplicates of the in-order accounts' events, out of order.
    const inOrderDeliveries = (await sim.webhooks()).filter((d) => d.seq <= lastSeq && d.status === 200 && d.provider === "stripe");
    for (const d of shuffle(inOrderDeliveries).slice(0, Math.ceil(inOrderDeliveries.length / 2))) await sim.redeliver(d.seq, webhookUrl);
    log(`${paid.length} checkouts (${inOrder.length} in order, ${reordered.length} with ${held.length} events shuffled and sent twice)`);

    // Seeds: two Basic accounts past their included tokens (overage), two trials near their cap.
    const seeded: SeededUsage[] = [];
    const overageAccounts = paid.filter((c) => c.plan === "basic").slice(0, 2);
    const nearCap = customers.filter((c) => c.plan === "trial").slice(0, 2);
    for (const c of overageAccounts) seeded.push({ requestId: `soak-seed-overage-${c.email}`, userId: c.userId, tokensIn: OVERAGE_SEED_TOKENS, tokensOut: 0 });
    for (const c of nearCap) seeded.push({ requestId: `soak-seed-cap-${c.email}`, userId: c.userId, tokensIn: NEAR_CAP_SEED_TOKENS, tokensOut: 0 });
    for (const s of seeded) await seedUsage(admin(), s);
    log(`seeded ${seeded.length} accounts' usage through the ledger's settle (overage: ${overageAccounts.length}, near the trial cap: ${nearCap.length})`);

    // Credentials: the rotation leg runs when POST /api/provisioning/token answers.
    const credentialHolders = customers.filter((c) => c.plan !== "trial" && !overageAccounts.includes(c)).slice(0, 6);
    const probe = await provisionCredential(urls().site, credentialHolders[0]);
    const credentialsOn = probe.ok;
    if (probe.ok) {
      credentialHolders[0].secret = probe.token;
      credentialHolders[0].usesCredential = true;
      legs.credentials.ok += 1;
      for (const c of credentialHolders.slice(1)) {
        const issued = await provisionCredential(urls().site, c);
        if (!issued.ok) throw new Error(`POST /api/provisioning/token for ${c.email}: ${issued.status} ${issued.body}`);
        c.secret = issued.token;
        c.usesCredential = true;
        legs.credentials.ok += 1;
      }
      log(`${credentialHolders.length} accounts send with provisioned credentials`);
    } else {
      // Absent (404): the leg does not run. Present but refusing: a failure.
      if (probe.status !== 404) legs.credentials.failed += 1;
      legs.credentials.notes.push(`POST /api/provisioning/token answered ${probe.status}: the rotation leg did not run`);
      log(`no credential rotations: POST /api/provisioning/token answered ${probe.status}`);
    }

    // -----------------------------------------------------------------------------------------
    // Traffic
    const attempts: ClientAttempt[] = [];
    let tagSeq = 0;
    let inFlight = 0;
    let restarting = false;
    let firstGapError: number | null = null;
    let lastGapError: number | null = null;
    const trafficMs = settings.minutes * 60_000;
    const trafficStart = Date.now();
    const trafficEnd = trafficStart + trafficMs;
    const restartAt = trafficStart + trafficMs / 2;
    let restart: Restart | null = null;

    /** One customer request: attempts until an answer, retrying connection errors with a new tag. */
    const request = async () => {
      const customer = pick(customers);
      const r = random();
      const stream = r < MIX.stream;
      const aborts = random() < MIX.abort;
      const plan: Omit<ChatPlan, "tag" | "secret"> = {
        email: customer.email,
        model: MODEL,
        messages: [
          { role: "system", content: "Answer briefly." },
          { role: "user", content: promptOf(random, 4 + Math.floor(random() * 40)) },
        ],
        maxOutput: MAX_OUTPUT,
        stream,
        wantUsage: random() < 0.5,
        abort: !aborts ? null : stream ? { afterChunks: 1 + Math.floor(random() * 6) } : { afterMs: 5 + Math.floor(random() * 120) },
      };
      for (let retry = 0; ; retry++) {
        const attempt = await sendChat(urls().site, { ...plan, tag: `soak-${settings.seed}-${++tagSeq}`, secret: customer.secret });
        attempts.push(attempt);
        if (attempt.outcome === "connection_error" || attempt.outcome === "backend_starting") {
          firstGapError ??= attempt.startedAt;
          lastGapError = attempt.startedAt + attempt.latencyMs;
          if (Date.now() > trafficEnd + 60_000 || retry > 200) return;
          await sleep(250);
          continue;
        }
        return;
      }
    };

    const background: Promise<void>[] = [];
    /** A leg's work every ~`ms` (jittered), paused during the restart; what throws is the leg's failure. */
    const every = (ms: number, into: Leg, work: () => Promise<void>) =>
      background.push(
        (async () => {
          while (Date.now() < trafficEnd) {
            await sleep(ms * (0.5 + random()));
            if (Date.now() >= trafficEnd) return;
            if (restarting) continue;
            try {
              await work();
            } catch (e) {
              const message = (e as Error).message;
              // A call refused because the restart began meanwhile never reached the backend.
              if (restarting && /ECONNREFUSED|fetch failed|starting/i.test(message)) {
                into.notes.push(`skipped (restart): ${message.slice(0, 120)}`);
                continue;
              }
              into.failed += 1;
              into.notes.push(message.slice(0, 200));
              log(`${into.name}: ${message}`);
            }
          }
        })(),
      );

    // Signups during the traffic: each new account joins the pool at once.
    every(Math.max(5_000, trafficMs / 20), legs.signups, async () => {
      await signupOne(true);
    });
    // Key rotations: the customer switches to the new key at once; the old one is in its grace.
    every(Math.max(4_000, trafficMs / 30), legs.keyRotations, async () => {
      const c = pick(customers.filter((x) => !x.usesCredential));
      const rotated = await rotateKey(urls(), c, KEY_GRACE_HOURS);
      c.keyId = rotated.keyId;
      c.secret = rotated.secret;
      legs.keyRotations.ok += 1;
    });
    if (credentialsOn) {
      every(Math.max(4_000, trafficMs / 30), legs.credentials, async () => {
        const c = pick(customers.filter((x) => x.usesCredential));
        const issued = await provisionCredential(urls().site, c);
        if (!issued.ok) throw new Error(`POST /api/provisioning/token answered ${issued.status}: ${issued.body}`);
        c.secret = issued.token;
        legs.credentials.ok += 1;
      });
    }
    // Renewals (invoice.paid + subscription.updated), each delivery sent once more, out of order.
    const subscriptions = async () => {
      const dump = await sim.get<{ checkoutSessions: { id: string; subscription: string | null }[] }>("/_sim/stripe");
      return new Map(dump.checkoutSessions.filter((s) => s.subscription).map((s) => [s.id, s.subscription!]));
    };
    every(Math.max(6_000, trafficMs / 12), legs.renewals, async () => {
      const c = pick(paid);
      const sub = (await subscriptions()).get(sessions.get(c.email)!);
      if (!sub) throw new Error(`no subscription for ${c.email}'s checkout`);
      const before = Math.max(0, ...(await sim.webhooks()).map((d) => d.seq));
      await sim.post(`/_sim/stripe/subscriptions/${sub}/renew`);
      const sent = (await sim.webhooks()).filter((d) => d.seq > before && d.redeliveryOf === null);
      if (sent.length === 0 || sent.some((d) => d.status !== 200)) {
        throw new Error(`renewal of ${sub}: ${sent.map((d) => `${d.eventType} ${d.status}`).join(", ") || "no webhook sent"}`);
      }
      legs.renewals.ok += 1;
      for (const d of shuffle(sent)) await sim.redeliver(d.seq, webhookUrl);
    });
    // Overage decisions besides the 5-minute cron (a concurrent decide must not report twice).
    every(Math.max(10_000, trafficMs / 6), legs.overage, async () => {
      await reportOverageNow(admin());
      legs.overage.ok += 1;
    });

    // The restart, once, in the middle.
    background.push(
      (async () => {
        await sleep(Math.max(0, restartAt - Date.now()));
        // Signal while requests are open (at most 15 s later), so the drain has work to finish.
        const latest = Date.now() + 15_000;
        while (inFlight < 3 && Date.now() < latest) await sleep(5);
        restarting = true;
        log("restart: SIGTERM to the runtime (drain, persist, exit)");
        const signalAt = Date.now();
        const stopped = await runtime!.stop();
        log(`restart: old runtime exited after ${stopped.exitedAt - signalAt} ms (drain ${JSON.stringify(stopped.report)})`);
        if (stopped.exitCode !== 0) throw new Error(`the runtime exited with ${stopped.exitCode} on SIGTERM`);
        runtime = await startRuntimeAt(place);
        restart = { signalAt, exitedAt: stopped.exitedAt, readyAt: runtime.readyAt, drain: stopped.report, clientGapMs: null, inFlightAtSignal: 0 };
        log(`restart: new runtime ready ${runtime.readyAt - signalAt} ms after the signal`);
        restarting = false;
      })(),
    );

    // The request schedule: SOAK_RPS starts a second, at most SOAK_CONCURRENCY open.
    const intervalMs = 1000 / settings.rps;
    let nextAt = Date.now();
    const open = new Set<Promise<void>>();
    let lastReport = Date.now();
    while (Date.now() < trafficEnd) {
      const wait = nextAt - Date.now();
      if (wait > 0) await sleep(wait);
      nextAt += intervalMs;
      if (inFlight >= settings.concurrency) continue;
      inFlight += 1;
      const p: Promise<void> = request().finally(() => {
        inFlight -= 1;
        open.delete(p);
      });
      open.add(p);
      if (Date.now() - lastReport > 30_000) {
        lastReport = Date.now();
        log(`${attempts.length} attempts, ${inFlight} open, ${customers.length} accounts`);
      }
    }
    log("traffic stopped; waiting for open requests and the background legs");
    await Promise.all(open);
    const legResults = await Promise.allSettled(background);
    for (const r of legResults) if (r.status === "rejected") throw r.reason;
    if (!restart) throw new Error("the restart did not happen");
    const restartDone: Restart = restart;
    restartDone.clientGapMs = firstGapError !== null && lastGapError !== null ? lastGapError - firstGapError : null;
    // Requests the old runtime had accepted when it was told to stop: drained, then reconciled like the rest.
    restartDone.inFlightAtSignal = attempts.filter((a) => a.outcome !== "connection_error" && a.outcome !== "backend_starting" && a.startedAt <= restartDone.signalAt && a.startedAt + a.latencyMs >= restartDone.signalAt).length;

    // Last overage decision, then let the background work (exports, rollups) finish.
    await reportOverageNow(admin());
    legs.overage.ok += 1;
    await quiet(urls().cloud, 3_000, 120_000);

    // -----------------------------------------------------------------------------------------
    // Evidence: the simulator's side, then the backend's data after its last graceful stop
    const served = await sim.served<ServedRow>();
    const deliveries = await sim.webhooks();
    const stripeDump = await sim.get<{ meterEvents: { identifier: string; payload: { value: string } }[] }>("/_sim/stripe");
    const runtimeLog = runtime.output();
    const finalStop = await runtime.stop();
    runtime = null;
    if (finalStop.exitCode !== 0) throw new Error(`the runtime exited with ${finalStop.exitCode} at the end`);
    const tables = readTables(dataDir);
    const rows = <T>(table: string) => (tables.get(table) ?? []) as unknown as T[];

    const users = rows<{ _id: string; email: string; plan: PlanId; state: string }>("users");
    const soakUsers = users.filter((u) => u.email.startsWith("soak-"));
    const accounts: AccountRow[] = soakUsers.map((u) => ({ userId: u._id, email: u.email, plan: u.plan, state: u.state }));
    const soakIds = new Set(accounts.map((a) => a.userId));
    const events = rows<LedgerEvent>("usageEvents").filter((e) => soakIds.has(e.userId));
    const balances = rows<BalanceRow>("usageMonthly").filter((b) => soakIds.has(b.userId));
    const usage = reconcileUsage({ attempts, served, events, accounts, balances, seeded });
    const webhooks = reconcileWebhooks(
      deliveries.filter((d) => d.provider === "stripe"),
      rows<WebhookEventRow>("webhookEvents"),
      ["stripe"],
    );
    const overage = reconcileOverage(
      rows<OverageOutboxRow>("overageOutbox"),
      rows<OverageCursorRow>("overageCursors"),
      stripeDump.meterEvents.map((m) => ({ identifier: m.identifier, value: Number(m.payload.value) })),
    );

    // What the soak itself expects of the accounts.
    const expectations: string[] = [];
    for (const c of paid) {
      const u = soakUsers.find((x) => x.email === c.email);
      if (!u) expectations.push(`${c.email} is missing from the backend`);
      else if (u.state !== "active" || u.plan !== c.plan) expectations.push(`${c.email} bought ${c.plan} and is ${u.state} on ${u.plan} after its webhooks (in order and reordered)`);
    }
    // Applied once: one row per provider subscription and invoice, however often its events came.
    for (const [table, field] of [["subscriptions", "providerSubscriptionId"], ["invoices", "providerInvoiceId"]] as const) {
      const seen = new Map<string, number>();
      for (const row of rows<Record<string, string>>(table)) seen.set(`${row.provider}:${row[field]}`, (seen.get(`${row.provider}:${row[field]}`) ?? 0) + 1);
      for (const [id, n] of seen) if (n > 1) expectations.push(`${table}: ${id} stored ${n} times`);
    }
    if (soakUsers.length !== customers.length) expectations.push(`${customers.length} signups, ${soakUsers.length} accounts in the backend`);
    if (overage.figures.chunks === 0) expectations.push("no overage chunk was decided for the accounts past their included tokens");
    if (overage.figures.pending > 0) expectations.push(`${overage.figures.pending} overage chunks still pending after the backend went quiet`);
    const unauthorized = attempts.filter((a) => a.httpStatus === 401);
    if (unauthorized.length > 0) expectations.push(`${unauthorized.length} requests refused as unauthorized (401) across key and credential rotations`);
    const serverErrors = attempts.filter((a) => a.httpStatus !== null && a.httpStatus >= 500 && a.outcome !== "backend_starting");
    const timeouts = attempts.filter((a) => a.outcome === "connection_error" && a.latencyMs >= 60_000);
    if (timeouts.length > 0) expectations.push(`${timeouts.length} requests got no answer for 60 s or more (a backend that accepted them and never answered)`);
    if (serverErrors.length > 0 && serverErrors.length > usage.figures.upstreamFailed) {
      expectations.push(`${serverErrors.length} backend 5xx answers, more than the ${usage.figures.upstreamFailed} failed upstream attempts explain`);
    }
    for (const l of Object.values(legs)) if (l.failed > 0) expectations.push(`${l.name}: ${l.failed} failed (${l.notes.filter((n) => !n.startsWith("skipped")).slice(0, 3).join("; ")})`);
    const restartLost = restartDone.drain && !restartDone.drain.drained ? [`the drain did not finish within ${DRAIN_MS} ms: ${JSON.stringify(restartDone.drain)}`] : [];
    const settleErrors = runtimeLog.split("\n").filter((l) => /failed to settle/.test(l));
    if (settleErrors.length > 0) expectations.push(`${settleErrors.length} streams failed to settle (runtime log): ${settleErrors[0].slice(0, 200)}`);

    const failures = [...usage.failures, ...webhooks.failures, ...overage.failures, ...expectations, ...restartLost];
    if (settings.evidenceDir) {
      // Everything the checks read, for looking into a difference by hand.
      mkdirSync(settings.evidenceDir, { recursive: true });
      const write = (name: string, value: unknown) => writeFileSync(path.join(settings.evidenceDir!, name), JSON.stringify(value, null, 1));
      write("attempts.json", attempts);
      write("served.json", served);
      write("events.json", events);
      write("balances.json", balances);
      write("webhooks.json", deliveries.map(({ seq, provider, eventId, eventType, status, redeliveryOf }) => ({ seq, provider, eventId, eventType, status, redeliveryOf })));
      write("failures.json", failures);
      write("runtime.log", runtimeLog);
      // The backend's data as the last runtime left it (bench/soak/checkData.ts reads it).
      cpSync(dataDir, path.join(settings.evidenceDir, "data"), { recursive: true });
    }
    const report = render({
      settings,
      wallMs: Date.now() - trafficStart,
      attempts,
      usage: usage.figures,
      webhooks: webhooks.figures,
      overage: overage.figures,
      restart: restartDone,
      legs: Object.values(legs),
      customers,
      seeded,
      credentialsOn,
      failures,
    });
    console.log(`\n${report}`);
    if (failures.length > 0) {
      console.error(`\nThe soak found ${failures.length} difference(s):`);
      for (const f of failures.slice(0, 50)) console.error(`  - ${f}`);
      if (failures.length > 50) console.error(`  ... and ${failures.length - 50} more`);
    }
    if (settings.writeDocs && failures.length === 0) publishReport(report);
    clearTimeout(ceiling);
    await cleanup();
    process.exit(failures.length === 0 ? 0 : 1);
  } catch (error) {
    if (runtime) console.error(`runtime output (last 3000 characters):\n${runtime.output().slice(-3000)}`);
    await cleanup();
    throw error;
  }
}

/** Waits until the runtime ran no function for `quietMs` (its /_dev/metrics counters). */
async function quiet(cloud: string, quietMs: number, timeoutMs: number): Promise<void> {
  const total = async () => {
    const m = (await (await fetch(`${cloud}/_dev/metrics`)).json()) as { functionCalls: Record<string, number> };
    return Object.values(m.functionCalls).reduce((a, b) => a + b, 0);
  };
  const deadline = Date.now() + timeoutMs;
  let last = await total();
  let since = Date.now();
  while (Date.now() - since < quietMs) {
    if (Date.now() > deadline) throw new Error(`the backend was still busy ${timeoutMs} ms after the traffic`);
    await sleep(250);
    const now = await total();
    if (now !== last) {
      last = now;
      since = Date.now();
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The report

interface RenderInput {
  settings: typeof settings;
  wallMs: number;
  attempts: ClientAttempt[];
  usage: ReturnType<typeof reconcileUsage>["figures"];
  webhooks: ReturnType<typeof reconcileWebhooks>["figures"];
  overage: ReturnType<typeof reconcileOverage>["figures"];
  restart: Restart;
  legs: Leg[];
  customers: Customer[];
  seeded: SeededUsage[];
  credentialsOn: boolean;
  failures: string[];
}

const ms = (x: number) => (Number.isFinite(x) ? `${Math.round(x)}` : "-");

function render(r: RenderInput): string {
  const by = (f: (a: ClientAttempt) => string) => {
    const out = new Map<string, number>();
    for (const a of r.attempts) out.set(f(a), (out.get(f(a)) ?? 0) + 1);
    return [...out].sort((a, b) => b[1] - a[1]);
  };
  const okJson = r.attempts.filter((a) => a.outcome === "ok" && !a.stream).map((a) => a.latencyMs);
  const okStream = r.attempts.filter((a) => a.outcome === "ok" && a.stream).map((a) => a.latencyMs);
  const outcomes = by((a) => `${a.stream ? "stream" : "json"} ${a.outcome}`).filter(([k]) => !k.endsWith("connection_error") && !k.endsWith("backend_starting"));
  const connectionErrors = r.attempts.filter((a) => a.outcome === "connection_error").length;
  const starting = r.attempts.filter((a) => a.outcome === "backend_starting").length;
  const errors = by((a) =>
    a.outcome === "http_error" ? `HTTP ${a.httpStatus}${a.errorCode ? ` ${a.errorCode}` : ""}` : a.outcome === "connection_error" ? "connection error (retried)" : a.outcome === "backend_starting" ? "503 starting (retried)" : a.outcome === "stream_error" ? "stream error event" : "",
  ).filter(([k]) => k !== "");
  const u = r.usage;
  const lines = [
    "## Soak (`npm run soak`)",
    "",
    `${r.settings.minutes} minutes of mixed traffic against the offline runtime (child process, data dir on disk) and the provider`,
    `simulator (own process), ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(1)).join(" / ")} at the end.`,
    `${r.customers.length} accounts (${r.customers.filter((c) => !c.lateSignup).length} at the start, ${r.customers.filter((c) => c.lateSignup).length} signed up during the traffic;`,
    `${r.customers.filter((c) => c.plan !== "trial").length} paid through the simulator's Stripe Checkout), ${r.settings.rps} chat requests started a second through the \`openai\` SDK`,
    `(at most ${r.settings.concurrency} open), gpt-4o-mini, max 64 output tokens. Upstream: ${UPSTREAM.latencyMs} ms to the first byte, ${UPSTREAM.tokenIntervalMs} ms a token,`,
    `${MIX.upstream5xx * 100} % of upstream attempts answered 500 and ${(MIX.upstreamCut / MIX.stream) * 100} % of streams cut (providerFaults.openai). One graceful restart in the middle.`,
    `Result: ${r.failures.length === 0 ? "**every check passed**" : `**${r.failures.length} difference(s)**`}.`,
    "",
    "### Requests",
    "",
    "| client attempts by outcome | count |",
    "| --- | --- |",
    ...outcomes.map(([k, n]) => `| ${k} | ${n} |`),
    `| total answered or aborted | ${r.attempts.length - connectionErrors - starting} |`,
    `| connection refused, each retried as a new attempt (the restart) | ${connectionErrors} |`,
    `| 503 \`starting\` from the new runtime, retried likewise | ${starting} |`,
    "",
    "| reconciled against the upstream and the ledger | count |",
    "| --- | --- |",
    `| billed at the provider's count (equal per request id and in sum) | ${u.classes.provider_count} |`,
    `| upstream stream cut: flagged estimate within its bound | ${u.classes.estimate_cut} |`,
    `| client left before the upstream answered (explained) | ${u.classes.explained_client_left} |`,
    `| every upstream attempt failed (zero-token event) | ${u.classes.upstream_failed} |`,
    `| never sent upstream (refused: quota, rate, auth; or no connection) | ${u.classes.not_sent_upstream} |`,
    `| matched by account and usage (no x-request-id reached the client) | ${u.matchedWithoutId} |`,
    "",
    `Upstream attempts served: ${u.upstreamAttempts} (${u.upstreamFailed} answered 500 and retried by the proxy, ${u.upstreamCut} streams cut).`,
    `Errors the clients saw: ${errors.length === 0 ? "none" : errors.map(([k, n]) => `${k} ${n}`).join(", ")}.`,
    "",
    "| latency, ms | p50 | p99 | n |",
    "| --- | --- | --- | --- |",
    `| JSON, complete | ${ms(percentile(okJson, 50))} | ${ms(percentile(okJson, 99))} | ${okJson.length} |`,
    `| stream, to [DONE] | ${ms(percentile(okStream, 50))} | ${ms(percentile(okStream, 99))} | ${okStream.length} |`,
    "",
    "### Tokens and cost",
    "",
    `Provider-counted: upstream reported ${u.providerTokens.reported.in} in / ${u.providerTokens.reported.out} out; the ledger billed ${u.providerTokens.billed.in} / ${u.providerTokens.billed.out}.`,
    `Estimates (cut streams, early client exits): ${u.estimatedTokens.in} in / ${u.estimatedTokens.out} out. Ledger events ${u.ledgerEvents} (${u.seededEvents} seeded); the traffic cost $${((u.costMicros - u.seededCostMicros) / 1e6).toFixed(4)} at the price book, the seeds $${(u.seededCostMicros / 1e6).toFixed(2)}.`,
    `Seeds through the ledger's settle: ${r.seeded.length} (${r.seeded.filter((s) => s.requestId.includes("overage")).length} Basic accounts 250K tokens past their included 5M; ${r.seeded.filter((s) => s.requestId.includes("cap")).length} trials 5K under their 500K cap); highest month's use of its hard cap: ${(u.highestCapShare * 100).toFixed(1)} %.`,
    "",
    "### Restart",
    "",
    `SIGTERM to exit ${r.restart.exitedAt - r.restart.signalAt} ms (drain: ${r.restart.drain ? `${r.restart.drain.inFlightAtStart} requests in flight, drained ${r.restart.drain.drained}, ${r.restart.drain.waitedMs} ms` : "no report"}); new runtime ready ${r.restart.readyAt - r.restart.signalAt} ms after the signal.`,
    `${r.restart.inFlightAtSignal} client requests were open when the signal came; the draining runtime answered them (all reconciled above).`,
    `Clients found no backend for ${r.restart.clientGapMs === null ? "-" : `${(r.restart.clientGapMs / 1000).toFixed(1)} s`} (first refused connection to the last refusal or 503 \`starting\`) and retried every 250 ms.`,
    "",
    "### Billing and credentials",
    "",
    `Webhooks: ${r.webhooks.deliveries} accepted deliveries of ${r.webhooks.distinctEvents} Stripe events (${r.webhooks.duplicatesDelivered} duplicates, shuffled); ${r.webhooks.rows} webhookEvents rows (${Object.entries(r.webhooks.byStatus).map(([k, n]) => `${k} ${n}`).join(", ")}).`,
    `Overage: ${r.overage.accounts} account-months, ${r.overage.chunks} chunks decided (${r.overage.sent} sent, ${r.overage.pending} pending), ${r.overage.tokensReported} tokens reported.`,
    ...r.legs.map((l) => `${l.name}: ${l.ok} ok, ${l.failed} failed${l.notes.length ? ` (${l.notes.slice(0, 2).join("; ")})` : ""}.`),
    r.credentialsOn ? "" : "The provisioned-credential leg runs only when POST /api/provisioning/token answers; it did not here.",
    "",
    "### Reading these numbers",
    "",
    "Each check compares three independent records of the same requests: what the clients sent and saw, what the simulator served",
    "(`GET /_sim/served`: per upstream request id, the usage its reply delivered) and what the backend stored (its data dir after the",
    "last graceful stop). A difference of one token, one event or one webhook row fails the run: it lists each difference",
    "and exits 1. The restart's gap is mostly the new process loading the functions (bundling `convex/`),",
    "and the latencies include the simulator's generation time (6 ms a token); both move with the machine's load.",
    "",
    "Re-run: `npm run soak` (`SOAK_MINUTES`, `SOAK_RPS`, `SOAK_CONCURRENCY`, `SOAK_ACCOUNTS`, `SOAK_SEED`; `SOAK_WRITE_DOCS=0` leaves this file alone). See bench/soak/README.md.",
  ];
  return lines.filter((l, i, all) => !(l === "" && all[i - 1] === "")).join("\n");
}

main().catch((error: unknown) => {
  console.error(`\nThe soak failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
});

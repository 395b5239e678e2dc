// Overage reported exactly once: the deciding mutation writes outbox rows and advances the
// cursor together, the export sends each row under its fixed identifier and retries with it, so
// a crash between the provider's answer and our acknowledgement, a workpool retry and a rerun of
// the deciding step leave exactly one event per chunk at the provider (the simulator, over
// HTTP, enforcing identifier / external_id uniqueness as Stripe and Polar do).
import { describe, expect, test } from "vitest";
import { api, internal } from "../_generated/api";
import { mailClock } from "../email/simulator.setup";
import { OVERAGE_CHUNK_TOKENS as C, overageIdentifier } from "../model/billing/overage";
import { PLANS } from "../model/plans";
import { signIn } from "../test.setup";
import {
  AFTER_CLOSE,
  alertsOfKind,
  crashNext,
  HOUR,
  METER_EVENTS,
  MONTH,
  overageRows,
  payingAccount,
  polarEvents,
  rollup,
  START,
  stripeMeterEvents,
  use,
  useOverageStack,
} from "./overage.setup";
import { acknowledge } from "./overageExport";

const BASIC = PLANS.basic.includedTokens;

const stack = useOverageStack();

const meterPosts = () => stack.sim.requests({ pathPrefix: "/v1/billing/meter_events" }).filter((r) => r.method === "POST");

describe("Stripe: meter events exactly once", () => {
  test("a crash between the provider's answer and the acknowledgement, the workpool's retry and a rerun report each chunk once", async () => {
    const clock = mailClock(START);
    const t = stack.deployment();
    const { userId, stripeCustomerId } = await payingAccount(t, stack.sim, "stripe", "basic", "crash@example.com");
    // 250,000 output tokens over the included amount: two full chunks now, 50,000 at the close;
    // the allowance went to output, so the 1,000 input tokens are billable too (at the close).
    await use(t, userId, { in: 1_000, out: BASIC + 2 * C + 50_000 }, START - HOUR);

    const crash = crashNext(acknowledge);
    expect(await t.mutation(internal.billing.overage.decide, { userId, month: MONTH })).toEqual({ queued: 2, more: false, final: false, skipped: null });
    // Decided once: the rows and the cursor exist together before anything is sent.
    const decided = await overageRows(t, userId);
    expect(decided.cursor).toMatchObject({ reported: { input: 0, output: 2 * C }, sent: { input: 0, output: 0 } });
    expect(decided.outbox.map((r) => [r.identifier, r.status])).toEqual([
      [overageIdentifier(userId, MONTH, { meter: "output", from: 0, to: C }), "pending"],
      [overageIdentifier(userId, MONTH, { meter: "output", from: C, to: 2 * C }), "pending"],
    ]);

    await clock.settle(t);
    expect(crash).toHaveBeenCalledTimes(3); // one acknowledgement died; the retry's committed
    // Three sends: each chunk once, and the crashed one again under the same identifier, which
    // the provider recognised (400: it already has it).
    const posts = meterPosts();
    expect(posts.map((p) => p.status).sort()).toEqual([200, 200, 400]);
    const retried = posts.find((p) => p.status === 400)!.body as { identifier: string };
    expect(posts.filter((p) => (p.body as { identifier: string }).identifier === retried.identifier)).toHaveLength(2);
    for (const p of posts) {
      expect(p.body).toMatchObject({ event_name: METER_EVENTS.output, payload: { stripe_customer_id: stripeCustomerId, value: String(C) } });
    }

    let events = await stripeMeterEvents(stack.sim);
    expect(events.map((e) => e.identifier).sort()).toEqual(decided.outbox.map((r) => r.identifier).sort());
    const sent = await overageRows(t, userId);
    expect(sent.outbox.map((r) => r.status)).toEqual(["sent", "sent"]);
    expect(sent.outbox.map((r) => r.outcome).sort()).toEqual(["accepted", "duplicate"]);
    expect(sent.cursor).toMatchObject({ reported: { input: 0, output: 2 * C }, sent: { input: 0, output: 2 * C } });

    // A rerun of the deciding step (the cron's next tick) finds nothing new to report.
    expect(await t.mutation(internal.billing.overage.decide, { userId, month: MONTH })).toMatchObject({ queued: 0 });
    await clock.settle(t);
    expect(meterPosts()).toHaveLength(3);

    // The month closes: the last partial chunks, once, then nothing more.
    await clock.settle(t, AFTER_CLOSE);
    await rollup(t);
    expect(await t.mutation(internal.billing.overage.closePreviousMonth, {})).toEqual({ scheduled: 1, done: true });
    await clock.settle(t);
    expect(await t.mutation(internal.billing.overage.decide, { userId, month: MONTH })).toMatchObject({ queued: 0, final: true });
    await clock.settle(t);

    events = await stripeMeterEvents(stack.sim);
    expect(events.map((e) => [e.event_name, Number(e.payload.value)])).toEqual([
      [METER_EVENTS.output, C],
      [METER_EVENTS.output, C],
      [METER_EVENTS.output, 50_000],
      [METER_EVENTS.input, 1_000],
    ]);
    expect(events[2].identifier).toBe(overageIdentifier(userId, MONTH, { meter: "output", from: 2 * C, to: 2 * C + 50_000 }));
    // Stamped with the month's last second: the events belong to November's meter period.
    for (const e of events.slice(2)) expect(e.timestamp).toBe(Date.UTC(2026, 11, 1) / 1000 - 1);
    const closed = await overageRows(t, userId);
    expect(closed.cursor).toMatchObject({ reported: { input: 1_000, output: 250_000 }, sent: { input: 1_000, output: 250_000 }, closedAt: expect.any(Number) });
    expect(closed.outbox.every((r) => r.status === "sent")).toBe(true);
  });

  test("a rerun while the sends are still pending decides nothing; a second worker's send of the same row is dropped", async () => {
    const clock = mailClock(START);
    const t = stack.deployment();
    const { userId } = await payingAccount(t, stack.sim, "stripe", "basic", "rerun@example.com");
    await use(t, userId, { in: 3 * C, out: BASIC }, START - HOUR);
    const [first, second] = await Promise.all([
      t.mutation(internal.billing.overage.decide, { userId, month: MONTH }),
      t.mutation(internal.billing.overage.decide, { userId, month: MONTH }),
    ]);
    expect([first.queued, second.queued].sort()).toEqual([0, 3]);
    const { outbox } = await overageRows(t, userId);
    expect(outbox.map((r) => r.meter)).toEqual(["input", "input", "input"]);
    // A send of the first row outside its workpool run (support's resend racing the run).
    await t.action(internal.billing.overageExport.send, { outboxId: outbox[0]._id });
    await clock.settle(t);
    expect(meterPosts()).toHaveLength(3);
    expect(await stripeMeterEvents(stack.sim)).toHaveLength(3);
    expect((await overageRows(t, userId)).cursor).toMatchObject({ reported: { input: 3 * C, output: 0 }, sent: { input: 3 * C, output: 0 } });
  });

  test("an outage is retried with the same identifier until Stripe answers", async () => {
    const clock = mailClock(START);
    const t = stack.deployment();
    const { userId } = await payingAccount(t, stack.sim, "stripe", "pro", "outage@example.com");
    await use(t, userId, { in: 1_000, out: PLANS.pro.includedTokens + C }, START - HOUR);
    // Told not to retry on its own, stripe-node leaves each retry to the workpool.
    stack.sim.configure({ fail: { status: 503, count: 2, pathPrefix: "/v1/billing/meter_events", shouldRetry: false } });
    await t.mutation(internal.billing.overage.decide, { userId, month: MONTH });
    await clock.settle(t);
    const posts = meterPosts();
    expect(posts.map((p) => p.status)).toEqual([503, 503, 200]);
    expect(new Set(posts.map((p) => (p.body as { identifier: string }).identifier)).size).toBe(1);
    expect(await stripeMeterEvents(stack.sim)).toHaveLength(1);
    expect((await overageRows(t, userId)).outbox[0]).toMatchObject({ status: "sent", outcome: "accepted" });
  });

  test("a refusal fails the row with an alert for support, who resends it under the same identifier", async () => {
    const clock = mailClock(START);
    const t = stack.deployment();
    const { userId } = await payingAccount(t, stack.sim, "stripe", "basic", "refused@example.com");
    await use(t, userId, { out: BASIC + C }, START - HOUR);
    stack.sim.configure({ fail: { status: 400, count: 1, pathPrefix: "/v1/billing/meter_events", message: "No active meter found." } });
    await t.mutation(internal.billing.overage.decide, { userId, month: MONTH });
    await clock.settle(t);
    const [failed] = (await overageRows(t, userId)).outbox;
    expect(failed).toMatchObject({ status: "failed", lastError: expect.stringMatching(/refused it .*No active meter found/) });
    expect(await alertsOfKind(t, "overage_export_failed")).toEqual([expect.objectContaining({ severity: "warning", message: expect.stringContaining(failed.identifier) })]);
    // Nothing decided again: the cursor covers the failed row, which waits for support.
    expect(await t.mutation(internal.billing.overage.decide, { userId, month: MONTH })).toMatchObject({ queued: 0 });

    const { as: agent } = await signIn(t, "agent@example.com", "support");
    const view = await agent.query(api.billing.overageSupport.account, { userId });
    expect(view.outbox).toEqual([expect.objectContaining({ identifier: failed.identifier, status: "failed" })]);
    await agent.mutation(api.billing.overageSupport.resend, { identifier: failed.identifier, reason: "meter created in the dashboard" });
    await clock.settle(t);
    expect((await overageRows(t, userId)).outbox[0]).toMatchObject({ identifier: failed.identifier, status: "sent" });
    expect((await stripeMeterEvents(stack.sim)).map((e) => e.identifier)).toEqual([failed.identifier]);
    const audits = await t.run((ctx) => ctx.db.query("auditLogs").collect());
    expect(audits.map((a) => [a.action, a.reason])).toContainEqual(["billing.overage.resent", "meter created in the dashboard"]);
  });
});

describe("Polar: events ingest exactly once", () => {
  test("external_id dedupes the retry after a lost acknowledgement; input and output on their own events", async () => {
    const clock = mailClock(START);
    const t = stack.deployment();
    const { userId } = await payingAccount(t, stack.sim, "polar", "basic", "polar@example.com");
    // Output covers the allowance, so every input token is billable: one input chunk, one output.
    await use(t, userId, { in: C, out: BASIC + C + 7 }, START - HOUR);
    const crash = crashNext(acknowledge);
    expect(await t.mutation(internal.billing.overage.decide, { userId, month: MONTH })).toMatchObject({ queued: 2 });
    await clock.settle(t);
    expect(crash).toHaveBeenCalledTimes(3);
    const ingests = stack.sim.requests({ pathPrefix: "/v1/events/ingest" });
    expect(ingests).toHaveLength(3);

    await clock.settle(t, AFTER_CLOSE);
    await rollup(t);
    await t.mutation(internal.billing.overage.closePreviousMonth, {});
    await clock.settle(t);

    const events = await polarEvents(stack.sim);
    expect(events.map((e) => `${e.name}:${e.metadata.tokens}`).sort()).toEqual([`${METER_EVENTS.input}:${C}`, `${METER_EVENTS.output}:${C}`, `${METER_EVENTS.output}:7`]);
    expect(new Set(events.map((e) => e.external_id)).size).toBe(3);
    for (const e of events) expect(e).toMatchObject({ external_customer_id: userId, metadata: { month: MONTH } });
    const { outbox, cursor } = await overageRows(t, userId);
    expect(outbox.map((r) => r.outcome).filter((o) => o === "duplicate")).toHaveLength(1);
    expect(cursor).toMatchObject({ reported: { input: C, output: C + 7 }, sent: { input: C, output: C + 7 } });
  });
});

describe("the sweep", () => {
  test("schedules only accounts that can owe overage, one decision each", async () => {
    const clock = mailClock(START);
    const t = stack.deployment();
    const payer = await payingAccount(t, stack.sim, "stripe", "basic", "payer@example.com");
    const under = await payingAccount(t, stack.sim, "stripe", "pro", "under@example.com");
    const { userId: trial } = await signIn(t, "trial@example.com");
    const { userId: noProvider } = await signIn(t, "support-granted@example.com", "user", "basic");
    await use(t, payer.userId, { out: BASIC + C }, START - HOUR);
    await use(t, under.userId, { out: BASIC + C }, START - HOUR); // Pro includes far more
    await use(t, trial, { out: BASIC + C }, START - HOUR);
    await use(t, noProvider, { out: BASIC + C }, START - HOUR);
    await rollup(t);
    expect(await t.mutation(internal.billing.overage.reportCurrentMonth, {})).toEqual({ scheduled: 2, done: true });
    await clock.settle(t);
    expect((await overageRows(t, payer.userId)).outbox).toHaveLength(1);
    expect((await overageRows(t, under.userId)).outbox).toHaveLength(0);
    expect(await stripeMeterEvents(stack.sim)).toHaveLength(1);
  });

  test("a decision is bounded; the rest follows in the next transaction", async () => {
    const clock = mailClock(START);
    const t = stack.deployment();
    const { userId } = await payingAccount(t, stack.sim, "stripe", "basic", "bulk@example.com");
    await use(t, userId, { in: 45 * C, out: BASIC }, START - HOUR);
    expect(await t.mutation(internal.billing.overage.decide, { userId, month: MONTH })).toMatchObject({ queued: 20, more: true });
    await clock.settle(t);
    const { outbox, cursor } = await overageRows(t, userId);
    expect(outbox).toHaveLength(45);
    expect(new Set(outbox.map((r) => r.identifier)).size).toBe(45);
    expect(cursor).toMatchObject({ reported: { input: 45 * C, output: 0 }, sent: { input: 45 * C, output: 0 } });
    expect(await stripeMeterEvents(stack.sim)).toHaveLength(45);
  });
});

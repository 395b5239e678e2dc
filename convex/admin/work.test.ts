// The console's background work: identity steps that failed or stalled, mail that failed or is
// overdue, and retrying a mail (a real send to the email simulator, under the same key).
import { describe, expect, test } from "vitest";
import { api } from "../_generated/api";
import type { Doc, Id } from "../_generated/dataModel";
import { queueEmail } from "../lib/emailOutbox";
import { inbox, mailClock, useEmailSimulator } from "../email/simulator.setup";
import { errorCodeOf, newTest, signIn, type TestConvex } from "../test.setup";
import { STEP_STUCK_MS } from "../model/admin/work";

const sim = useEmailSimulator();
const MIN = 60_000;
const START = Date.UTC(2026, 10, 10, 9);
const page = { numItems: 20, cursor: null };

type Step = Doc<"identities">["steps"][number];

async function identity(t: TestConvex, userId: Id<"users">, steps: Step[], phase: Doc<"identities">["phase"] = "provisioning") {
  return await t.run((ctx) =>
    ctx.db.insert("identities", { userId, phase, steps, signalStatus: "none", createdAt: START, updatedAt: START }),
  );
}

describe("identity steps that need a person", () => {
  test("failed steps and steps stalled past the bound are listed; healthy and waiting-for-the-customer ones are not", async () => {
    const t = newTest();
    const { as: agent } = await signIn(t, "agent@example.com", "support");
    const { userId: failedUser } = await signIn(t, "failed@example.com", "user", "basic");
    const { userId: stuckUser } = await signIn(t, "stuck@example.com", "user", "basic");
    const { userId: fineUser } = await signIn(t, "fine@example.com", "user", "basic");
    const asOf = START + STEP_STUCK_MS + MIN;
    await identity(t, failedUser, [
      { name: "workspace_user", status: "done", updatedAt: START },
      { name: "number_order", status: "failed", lastError: "Telnyx: no numbers in area", updatedAt: START + MIN },
    ]);
    await identity(t, stuckUser, [{ name: "mailbox", status: "running", updatedAt: START, startedAt: START }]);
    await identity(t, fineUser, [
      { name: "mailbox", status: "running", updatedAt: asOf - MIN },
      { name: "signal_code", status: "waiting", waitingFor: "sms_code", updatedAt: START },
    ]);

    const result = await agent.query(api.admin.work.provisioning, { phase: "provisioning", asOf, paginationOpts: page });
    expect(result.page.map((r) => [r.email, r.troubles.map((x) => [x.step, x.kind, x.error])]).sort()).toEqual([
      ["failed@example.com", [["number_order", "failed", "Telnyx: no numbers in area"]]],
      ["stuck@example.com", [["mailbox", "stuck", undefined]]],
    ]);
    expect((await agent.query(api.admin.work.provisioning, { phase: "deprovisioning", asOf, paginationOpts: page })).page).toEqual([]);
  });

  test("customers are refused", async () => {
    const t = newTest();
    const { as } = await signIn(t, "c@example.com");
    expect(await errorCodeOf(as.query(api.admin.work.provisioning, { phase: "provisioning", asOf: START, paginationOpts: page }))).toBe("FORBIDDEN");
    expect(await errorCodeOf(as.query(api.admin.work.emails, { status: "failed", asOf: START, paginationOpts: page }))).toBe("FORBIDDEN");
  });
});

describe("mail that needs a look, and its retry", () => {
  test("a failed welcome mail is listed, retried by support with a reason, and arrives once", async () => {
    const clock = mailClock(START);
    const t = newTest();
    const { as: agent } = await signIn(t, "agent@example.com", "support");
    const { userId } = await signIn(t, "ada@example.com");
    // The email API is down for longer than the outbox retries: the mail ends failed.
    sim.configure({ fail: { status: 500, count: 100, pathPrefix: "/emails" } });
    const outboxId = await t.run((ctx) => queueEmail(ctx, { userId, to: "ada@example.com", template: "welcome", category: "transactional" }));
    await clock.settle(t);
    const failed = await agent.query(api.admin.work.emails, { status: "failed", asOf: Date.now(), paginationOpts: page });
    expect(failed.page).toEqual([expect.objectContaining({ _id: outboxId, to: "ada@example.com", template: "welcome", status: "failed", lastError: expect.any(String) })]);
    expect(await inbox(sim, "ada@example.com")).toEqual([]);

    // The provider is back; support retries.
    sim.configure({ fail: null });
    expect(await errorCodeOf(agent.mutation(api.admin.work.retryEmail, { outboxId, reason: "" }))).toBe("INVALID_ARGUMENT");
    await agent.mutation(api.admin.work.retryEmail, { outboxId, reason: "email API outage is over" });
    await clock.settle(t);
    const row = await t.run((ctx) => ctx.db.get("emailOutbox", outboxId));
    expect(row?.status).toBe("sent");
    expect(row?.lastError).toBeUndefined();
    expect(await inbox(sim, "ada@example.com")).toHaveLength(1);
    expect((await agent.query(api.admin.work.emails, { status: "failed", asOf: Date.now(), paginationOpts: page })).page).toEqual([]);
    const audit = await t.run((ctx) => ctx.db.query("auditLogs").withIndex("by_action_and_at", (q) => q.eq("action", "email.retried")).collect());
    expect(audit).toEqual([expect.objectContaining({ actorLabel: "agent@example.com", reason: "email API outage is over", targetId: userId })]);
    // A sent mail is not retried again.
    expect(await errorCodeOf(agent.mutation(api.admin.work.retryEmail, { outboxId, reason: "again please" }))).toBe("CONFLICT");
  });

  test("queued mail counts as stalled only 15 minutes past due; newer queued mail cannot be retried", async () => {
    const t = newTest();
    const { as: agent } = await signIn(t, "agent@example.com", "support");
    const { userId } = await signIn(t, "late@example.com");
    const insert = (sendAfter: number, template: Doc<"emailOutbox">["template"]) =>
      t.run((ctx) =>
        ctx.db.insert("emailOutbox", { userId, to: "late@example.com", template, category: "transactional", dedupeKey: `${userId}:${template}`, status: "queued", sendAfter, queuedAt: sendAfter }),
      );
    const now = Date.now();
    const old = await insert(now - 20 * MIN, "welcome");
    const fresh = await insert(now - 5 * MIN, "trial_ending");
    const overdue = await agent.query(api.admin.work.emails, { status: "queued", asOf: now, paginationOpts: page });
    expect(overdue.page.map((r) => r._id)).toEqual([old]);
    expect(await errorCodeOf(agent.mutation(api.admin.work.retryEmail, { outboxId: fresh, reason: "too early" }))).toBe("CONFLICT");
    await agent.mutation(api.admin.work.retryEmail, { outboxId: old, reason: "stalled in the queue" });
    const row = await t.run((ctx) => ctx.db.get("emailOutbox", old));
    expect(row?.workId).toEqual(expect.any(String));
  });
});

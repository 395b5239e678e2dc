// Background work that needs a person, for the console's "Background work" page: identity
// provisioning steps that failed or stalled, mail that failed or is overdue, and (on the same
// page, from billing/support.ts) billing webhook events that could not be applied. Each list is
// paginated through an index; each row has a retry that reuses the domain's own path:
// identity.support.rerunStep, billing.support.reapplyEvent, and `retryEmail` here (the outbox
// had none). Queries take `asOf` (a time rounded to the minute by the page) instead of reading
// the clock, so they stay cacheable and a page does not change under the reader every second.
import { paginationOptsValidator, paginationResultValidator } from "convex/server";
import { v } from "convex/values";
import { internal } from "../_generated/api";
import type { Doc } from "../_generated/dataModel";
import { supportMutation, supportQuery } from "../functions";
import { actorOf, audit } from "../lib/audit";
import { EMAIL_RETRY } from "../lib/emailOutbox";
import { fail } from "../lib/errors";
import { providerPool } from "../lib/providerPool";
import { MAIL_OVERDUE_MS, troubledSteps } from "../model/admin/work";
import schema from "../schema";
import { identityPhaseValidator, identityStepNameValidator } from "../schema/identity";
import { requireReason } from "./reason";

const outbox = schema.tables.emailOutbox.validator.fields;

const troubleValidator = v.object({
  step: identityStepNameValidator,
  kind: v.union(v.literal("failed"), v.literal("stuck")),
  since: v.number(),
  error: v.optional(v.string()),
});

/**
 * Identities still being provisioned (or deprovisioned) with a failed or stalled step. The page
 * walks the phase's index; identities without trouble are left out, so a page may hold fewer
 * rows than asked for (the phase is small: accounts mid-activation).
 */
export const provisioning = supportQuery({
  args: {
    phase: v.union(v.literal("provisioning"), v.literal("deprovisioning")),
    asOf: v.number(),
    paginationOpts: paginationOptsValidator,
  },
  returns: paginationResultValidator(
    v.object({
      identityId: v.id("identities"),
      userId: v.id("users"),
      email: v.union(v.string(), v.null()),
      phase: identityPhaseValidator,
      troubles: v.array(troubleValidator),
      updatedAt: v.number(),
    }),
  ),
  handler: async (ctx, { phase, asOf, paginationOpts }) => {
    const page = await ctx.db.query("identities").withIndex("by_phase", (q) => q.eq("phase", phase)).paginate(paginationOpts);
    const rows = [];
    for (const identity of page.page) {
      const troubles = troubledSteps(identity.steps, asOf);
      if (troubles.length === 0) continue;
      const user = await ctx.db.get("users", identity.userId);
      rows.push({
        identityId: identity._id,
        userId: identity.userId,
        email: user?.email ?? null,
        phase: identity.phase,
        troubles: troubles.map((t) => ({ ...t, step: t.step as Doc<"identities">["steps"][number]["name"] })),
        updatedAt: identity.updatedAt,
      });
    }
    return { ...page, page: rows };
  },
});

const emailRowValidator = v.object({
  _id: v.id("emailOutbox"),
  userId: outbox.userId,
  to: outbox.to,
  template: outbox.template,
  status: outbox.status,
  sendAfter: outbox.sendAfter,
  queuedAt: outbox.queuedAt,
  lastError: outbox.lastError,
});

/**
 * Mail that needs a look: `failed` (newest due first), or `queued` / `sending` more than 15
 * minutes past due (oldest first: the longest-stalled on top).
 */
export const emails = supportQuery({
  args: {
    status: v.union(v.literal("failed"), v.literal("queued"), v.literal("sending")),
    asOf: v.number(),
    paginationOpts: paginationOptsValidator,
  },
  returns: paginationResultValidator(emailRowValidator),
  handler: async (ctx, { status, asOf, paginationOpts }) => {
    const rows = ctx.db.query("emailOutbox");
    const page =
      status === "failed"
        ? await rows.withIndex("by_status_and_sendAfter", (q) => q.eq("status", "failed")).order("desc").paginate(paginationOpts)
        : await rows
            .withIndex("by_status_and_sendAfter", (q) => q.eq("status", status).lt("sendAfter", asOf - MAIL_OVERDUE_MS))
            .order("asc")
            .paginate(paginationOpts);
    return {
      ...page,
      page: page.page.map((m) => ({
        _id: m._id,
        userId: m.userId,
        to: m.to,
        template: m.template,
        status: m.status,
        sendAfter: m.sendAfter,
        queuedAt: m.queuedAt,
        lastError: m.lastError,
      })),
    };
  },
});

/**
 * Sends a failed or stalled mail again: a fresh providerPool run
 * with the outbox's usual retries. A mail rendered before is re-sent byte for byte under the
 * same Idempotency-Key (the outbox id), so the provider cannot deliver it twice.
 */
export const retryEmail = supportMutation({
  args: { outboxId: v.id("emailOutbox"), reason: v.string() },
  returns: v.null(),
  handler: async (ctx, { outboxId, reason }) => {
    const why = requireReason(reason);
    const row = await ctx.db.get("emailOutbox", outboxId);
    if (row === null) fail("NOT_FOUND", "No such mail in the outbox.");
    const now = Date.now();
    const overdue = (row.status === "queued" || row.status === "sending") && now - row.sendAfter >= MAIL_OVERDUE_MS;
    if (row.status !== "failed" && !overdue) {
      fail("CONFLICT", `This mail is ${row.status}${row.status === "queued" || row.status === "sending" ? " and not overdue yet" : ""}; only failed or stalled mail can be retried.`);
    }
    // A stalled run is left alone rather than canceled: its onComplete would mark the row
    // failed under the new run. Should it wake up, it sends the same bytes under the same key.
    const workId = await providerPool.enqueueAction(
      ctx,
      internal.email.delivery.send,
      { outboxId },
      {
        retry: EMAIL_RETRY,
        onComplete: internal.email.delivery.recordOutcome,
        context: { outboxId },
        name: `email:${row.template}`,
      },
    );
    await ctx.db.patch("emailOutbox", outboxId, {
      status: row.content !== undefined && row.subject !== undefined ? "sending" : "queued",
      lastError: undefined,
      workId,
    });
    await audit(ctx, actorOf(ctx.user), "email.retried", { type: "user", id: row.userId ?? row.to }, why, {
      outboxId,
      template: row.template,
      previousStatus: row.status,
    });
    return null;
  },
});

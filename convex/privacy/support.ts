// Support's door and view: request an account's deletion with a reason (audit-logged), follow its
// progress, re-run a step that failed, and list the requests still open (the account page is gone
// once a deletion finishes, so the list is how support finds a request afterwards).
import { v } from "convex/values";
import { supportMutation, supportQuery } from "../functions";
import { requireAccount } from "../lib/accounts";
import { actorOf, audit } from "../lib/audit";
import { fail } from "../lib/errors";
import { IllegalStepError, retryStep as retryModelStep } from "../model/privacy/deletion";
import { deletionStepNameValidator } from "../schema/operations";
import { internal } from "../_generated/api";
import { requestDeletion } from "./process";
import { deletionView, deletionViewValidator } from "./views";

function requireReason(reason: string): string {
  const r = reason.trim();
  if (r.length < 3) fail("INVALID_ARGUMENT", "Give a reason (at least 3 characters), such as the ticket that asked for the deletion; it goes in the audit log.");
  return r.slice(0, 500);
}

export const requestDeletionFor = supportMutation({
  args: { userId: v.id("users"), reason: v.string() },
  returns: v.object({ requestId: v.id("deletionRequests"), existing: v.boolean() }),
  handler: async (ctx, { userId, reason }) => {
    const why = requireReason(reason);
    const user = await requireAccount(ctx, userId);
    if (user._id === ctx.user._id) fail("FORBIDDEN", "Delete your own account from Settings, not from the support console.");
    if (user.role !== "user" && ctx.user.role !== "admin") fail("FORBIDDEN", "Only an admin can delete a staff account.");
    if (user.tokenIdentifier.startsWith("tombstone|")) fail("CONFLICT", "This is the tombstone of an account already deleted.");
    return await requestDeletion(ctx, { userId, source: "support", requestedBy: ctx.user.email, reason: why }, actorOf(ctx.user));
  },
});

/** The account's deletion request (open, or the latest), for its page in the console. */
export const forAccount = supportQuery({
  args: { userId: v.id("users") },
  returns: v.union(deletionViewValidator, v.null()),
  handler: async (ctx, { userId }) => {
    const rows = await ctx.db.query("deletionRequests").withIndex("by_userId", (q) => q.eq("userId", userId)).order("desc").take(10);
    return rows.length === 0 ? null : deletionView(rows[0]);
  },
});

/** Open requests, oldest first (the runbook's "what is in flight"), and the latest finished ones. */
export const list = supportQuery({
  args: {},
  returns: v.object({ open: v.array(deletionViewValidator), done: v.array(deletionViewValidator) }),
  handler: async (ctx) => {
    const requested = await ctx.db.query("deletionRequests").withIndex("by_status_and_requestedAt", (q) => q.eq("status", "requested")).take(50);
    const running = await ctx.db.query("deletionRequests").withIndex("by_status_and_requestedAt", (q) => q.eq("status", "in_progress")).take(50);
    const done = await ctx.db.query("deletionRequests").withIndex("by_status_and_requestedAt", (q) => q.eq("status", "done")).order("desc").take(20);
    return { open: [...requested, ...running].sort((a, b) => a.requestedAt - b.requestedAt).map(deletionView), done: done.map(deletionView) };
  },
});

/** Re-runs a step that failed after its retries, once support fixed the cause. */
export const retryStep = supportMutation({
  args: { requestId: v.id("deletionRequests"), step: deletionStepNameValidator, reason: v.string() },
  returns: v.null(),
  handler: async (ctx, { requestId, step, reason }) => {
    const why = requireReason(reason);
    const request = await ctx.db.get("deletionRequests", requestId);
    if (request === null || request.steps === undefined) fail("NOT_FOUND", "No such deletion request.");
    let steps;
    try {
      steps = retryModelStep(request.steps, step);
    } catch (e) {
      if (e instanceof IllegalStepError) fail("ILLEGAL_TRANSITION", e.message);
      throw e;
    }
    await ctx.db.patch("deletionRequests", requestId, { steps, wakeAt: undefined, updatedAt: Date.now() });
    await audit(ctx, actorOf(ctx.user), "account.deletion_step_retried", { type: "deletionRequest", id: requestId }, why, { step });
    await ctx.scheduler.runAfter(0, internal.privacy.process.run, { requestId });
    return null;
  },
});

// The end of a trial (users.trialEndsAt), driven by the scheduler: an hourly sweep (crons.ts)
// walks the accounts still in trial. Three days before the end it queues the trial_ending mail
// (transactional, once per account through the outbox's dedupe key), raises an in-app alert and
// schedules `expire` at the exact end; at the end, trial -> trial_expired -> canceled. An
// account that bought a plan meanwhile is no longer in trial, so both steps pass it by.
import { v } from "convex/values";
import { internal } from "../_generated/api";
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";
import { internalMutation } from "../functions";
import { applyStateEvent } from "../lib/accounts";
import { dedupeKeyOf, queueEmail } from "../lib/emailOutbox";
import { trialAction } from "../model/billing/lifecycle";
import { formatDate } from "../model/email/templates";
import { BILLING_ACTOR } from "./apply";

const PAGE = 100;

async function expireTrial(ctx: MutationCtx, user: Doc<"users">): Promise<void> {
  await applyStateEvent(ctx, user, { type: "trial_expired" }, BILLING_ACTOR, "the trial period ended");
}

/** Once per account: the outbox row for trial_ending is the record that the warning went out. */
async function warnTrial(ctx: MutationCtx, user: Doc<"users">, trialEndsAt: number): Promise<boolean> {
  const warned = await ctx.db
    .query("emailOutbox")
    .withIndex("by_dedupeKey", (q) => q.eq("dedupeKey", dedupeKeyOf(user._id, "trial_ending")))
    .first();
  if (warned !== null) return false;
  await queueEmail(ctx, { userId: user._id, to: user.email, template: "trial_ending", category: "transactional" });
  await ctx.db.insert("alerts", {
    userId: user._id,
    kind: "trial_ending",
    severity: "info",
    message: `Your trial ends on ${formatDate(trialEndsAt)}. Choose a plan on the Billing page to keep using Poindexter.`,
    at: Date.now(),
  });
  await ctx.scheduler.runAt(trialEndsAt, internal.billing.trials.expire, { userId: user._id });
  return true;
}

async function sweepHandler(ctx: MutationCtx, { cursor }: { cursor?: string }) {
  const now = Date.now();
  const page = await ctx.db
    .query("users")
    .withIndex("by_state", (q) => q.eq("state", "trial"))
    .paginate({ numItems: PAGE, cursor: cursor ?? null });
  let warned = 0;
  let expired = 0;
  for (const user of page.page) {
    const action = trialAction(user.trialEndsAt, now);
    if (action === "expire") {
      await expireTrial(ctx, user);
      expired++;
    } else if (action === "warn" && (await warnTrial(ctx, user, user.trialEndsAt!))) {
      warned++;
    }
  }
  // The rest of the trial accounts in the next transaction, so one run stays small.
  if (!page.isDone) await ctx.scheduler.runAfter(0, internal.billing.trials.sweep, { cursor: page.continueCursor });
  return { warned, expired, done: page.isDone };
}

export const sweep = internalMutation({
  args: { cursor: v.optional(v.string()) },
  returns: v.object({ warned: v.number(), expired: v.number(), done: v.boolean() }),
  handler: sweepHandler,
});

/** At the trial's end (scheduled by the warning): only a trial whose end has come is expired. */
export const expire = internalMutation({
  args: { userId: v.id("users") },
  returns: v.boolean(),
  handler: async (ctx, { userId }: { userId: Id<"users"> }) => {
    const user = await ctx.db.get("users", userId);
    if (user === null || user.state !== "trial" || trialAction(user.trialEndsAt, Date.now()) !== "expire") return false;
    await expireTrial(ctx, user);
    return true;
  },
});

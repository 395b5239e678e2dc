// The support console's billing section: an account's subscriptions, invoices, webhook events
// (type, received, applied / ignored / failed and why) and deprovisioning requests; the events
// that could not be applied to any account; and re-applying a failed event once its cause is
// fixed. Granting a plan by hand is admin.accounts.overrideAccountPlan (audit-logged, with a reason).
import { paginationOptsValidator, paginationResultValidator } from "convex/server";
import { v } from "convex/values";
import type { Doc } from "../_generated/dataModel";
import { supportMutation, supportQuery } from "../functions";
import { requireAccount } from "../lib/accounts";
import { actorOf, audit } from "../lib/audit";
import { fail } from "../lib/errors";
import { project } from "../model/rows";
import schema from "../schema";
import { webhookStatusValidator } from "../schema/billing";
import { billingProviderValidator } from "../schema/validators";
import { applyFact } from "./apply";
import { enqueueRefetch } from "./refetch";
import { billingSummaryOf, billingSummaryValidator, invoiceView, invoiceViewValidator, subscriptionView, subscriptionViewValidator } from "./view";

const event = schema.tables.webhookEvents.validator.fields;
const deprovision = schema.tables.deprovisionRequests.validator.fields;

const eventRowValidator = v.object({
  _id: v.id("webhookEvents"),
  provider: event.provider,
  eventId: event.eventId,
  type: event.type,
  receivedAt: event.receivedAt,
  status: event.status,
  outcome: event.outcome,
  reappliedAt: event.reappliedAt,
  userId: event.userId,
});

function eventRow(e: Doc<"webhookEvents">) {
  return project(e, ["_id", "provider", "eventId", "type", "receivedAt", "status", "outcome", "reappliedAt", "userId"]);
}

const SHOWN = { subscriptions: 50, invoices: 50, events: 100, deprovision: 20 };

export const account = supportQuery({
  args: { userId: v.id("users") },
  returns: v.object({
    summary: billingSummaryValidator,
    stripeCustomerId: v.union(v.string(), v.null()),
    polarCustomerId: v.union(v.string(), v.null()),
    subscriptions: v.array(subscriptionViewValidator),
    invoices: v.array(invoiceViewValidator),
    events: v.array(eventRowValidator),
    deprovisionRequests: v.array(
      v.object({
        _id: v.id("deprovisionRequests"),
        provider: deprovision.provider,
        providerSubscriptionId: deprovision.providerSubscriptionId,
        requestedAt: deprovision.requestedAt,
        status: deprovision.status,
      }),
    ),
  }),
  handler: async (ctx, { userId }) => {
    const user = await requireAccount(ctx, userId);
    const now = Date.now();
    const [subscriptions, invoices, events, deprovisionRequests] = await Promise.all([
      ctx.db.query("subscriptions").withIndex("by_userId", (q) => q.eq("userId", userId)).take(SHOWN.subscriptions),
      ctx.db.query("invoices").withIndex("by_userId_and_createdAt", (q) => q.eq("userId", userId)).order("desc").take(SHOWN.invoices),
      ctx.db.query("webhookEvents").withIndex("by_userId_and_receivedAt", (q) => q.eq("userId", userId)).order("desc").take(SHOWN.events),
      ctx.db.query("deprovisionRequests").withIndex("by_userId", (q) => q.eq("userId", userId)).order("desc").take(SHOWN.deprovision),
    ]);
    return {
      summary: await billingSummaryOf(ctx, user, now),
      stripeCustomerId: user.stripeCustomerId ?? null,
      polarCustomerId: user.polarCustomerId ?? null,
      subscriptions: subscriptions.sort((a, b) => b.providerUpdatedAt - a.providerUpdatedAt).map((s) => subscriptionView(s, now)),
      invoices: invoices.map(invoiceView),
      events: events.map(eventRow),
      deprovisionRequests: deprovisionRequests.map((d) => ({
        _id: d._id,
        provider: d.provider,
        providerSubscriptionId: d.providerSubscriptionId,
        requestedAt: d.requestedAt,
        status: d.status,
      })),
    };
  },
});

/** Billing events that could not be applied (most have no account: a customer nobody links), newest first. */
export const failedEvents = supportQuery({
  args: { paginationOpts: paginationOptsValidator },
  returns: paginationResultValidator(eventRowValidator),
  handler: async (ctx, { paginationOpts }) => {
    const page = await ctx.db
      .query("webhookEvents")
      .withIndex("by_status_and_receivedAt", (q) => q.eq("status", "failed"))
      .order("desc")
      .paginate(paginationOpts);
    return { ...page, page: page.page.map(eventRow) };
  },
});

/**
 * Applies a failed billing event again, the way its webhook did (same fact, same ordering rules:
 * if newer events arrived meanwhile, an older fact is ignored as stale). Audit-logged with the
 * reason; only `failed` events, so nothing is ever applied twice.
 */
export const reapplyEvent = supportMutation({
  args: { provider: billingProviderValidator, eventId: v.string(), reason: v.string() },
  returns: v.object({ status: webhookStatusValidator, outcome: v.string() }),
  handler: async (ctx, { provider, eventId, reason }) => {
    const why = reason.trim();
    if (why.length < 3) fail("INVALID_ARGUMENT", "Give a reason (at least 3 characters); it goes in the audit log.");
    const row = await ctx.db
      .query("webhookEvents")
      .withIndex("by_provider_and_eventId", (q) => q.eq("provider", provider).eq("eventId", eventId))
      .unique();
    if (row === null || row.fact === undefined) fail("NOT_FOUND", `No ${provider} billing event ${eventId} is recorded.`);
    if (row.status !== "failed") {
      fail("CONFLICT", `That event was ${row.status ?? "applied"} (${row.outcome}); only failed events can be re-applied.`);
    }
    const result = await applyFact(ctx, provider, row.fact);
    await ctx.db.patch("webhookEvents", row._id, {
      status: result.status,
      outcome: `${result.outcome} (re-applied)`,
      userId: result.userId ?? row.userId,
      reappliedAt: Date.now(),
    });
    if (result.refetch !== undefined) {
      const workId = await enqueueRefetch(ctx, { ...result.refetch, eventRowId: row._id });
      await ctx.db.patch("webhookEvents", row._id, { refetchWorkId: workId });
    }
    const target = result.userId === undefined ? { type: "webhookEvent", id: row._id } : { type: "user", id: result.userId };
    await audit(ctx, actorOf(ctx.user), "billing.event_reapplied", target, why.slice(0, 500), {
      provider,
      eventId,
      type: row.type,
      status: result.status,
      outcome: result.outcome,
    });
    return { status: result.status, outcome: result.outcome };
  },
});

// Overage for support: an account's months (reported, acknowledged, the last reconciliation)
// and its latest outbox rows; every month that did not reconcile, newest check first; and
// resending a failed row under its own identifier once the cause is fixed (audit-logged).
import { paginationOptsValidator, paginationResultValidator } from "convex/server";
import { v } from "convex/values";
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import { supportMutation, supportQuery } from "../functions";
import { requireAccount } from "../lib/accounts";
import { actorOf, audit } from "../lib/audit";
import { fail } from "../lib/errors";
import { describeDiscrepancy } from "../model/billing/overage";
import { monthOf } from "../model/calendar";
import { project } from "../model/rows";
import schema from "../schema";
import { meterQuantitiesValidator, overageDiscrepancyValidator } from "../schema/billing";
import { monthBillOf, monthBillValidator } from "./overageBill";
import { requeueOverage } from "./overageExport";

const outbox = schema.tables.overageOutbox.validator.fields;
const reconciliation = schema.tables.overageReconciliations.validator.fields;

const SHOWN = { months: 12, outbox: 50 };

const reconciliationViewValidator = v.object({
  _id: v.id("overageReconciliations"),
  userId: v.id("users"),
  email: v.union(v.string(), v.null()),
  month: v.string(),
  provider: reconciliation.provider,
  plan: reconciliation.plan,
  status: reconciliation.status,
  billable: meterQuantitiesValidator,
  reported: meterQuantitiesValidator,
  sent: meterQuantitiesValidator,
  providerTotals: reconciliation.providerTotals,
  providerNote: v.union(v.string(), v.null()),
  discrepancies: v.array(v.object({ ...overageDiscrepancyValidator.fields, message: v.string() })),
  checkedAt: v.number(),
});

function reconciliationView(r: Doc<"overageReconciliations">, email: string | null) {
  return {
    _id: r._id,
    userId: r.userId,
    email,
    month: r.month,
    provider: r.provider,
    plan: r.plan,
    status: r.status,
    billable: r.billable,
    reported: r.reported,
    sent: r.sent,
    providerTotals: r.providerTotals,
    providerNote: r.providerNote ?? null,
    discrepancies: r.discrepancies.map((d) => ({ ...d, message: describeDiscrepancy(d) })),
    checkedAt: r.checkedAt,
  };
}

const outboxViewValidator = v.object({
  identifier: outbox.identifier,
  month: outbox.month,
  provider: outbox.provider,
  meter: outbox.meter,
  from: outbox.from,
  to: outbox.to,
  status: outbox.status,
  outcome: v.union(v.literal("accepted"), v.literal("duplicate"), v.null()),
  createdAt: outbox.createdAt,
  sentAt: v.union(v.number(), v.null()),
  lastError: v.union(v.string(), v.null()),
});

function outboxView(r: Doc<"overageOutbox">) {
  return project(r, ["identifier", "month", "provider", "meter", "from", "to", "status", "createdAt"], ["outcome", "sentAt", "lastError"]);
}

const monthViewValidator = v.object({
  month: v.string(),
  provider: reconciliation.provider,
  plan: reconciliation.plan,
  reported: meterQuantitiesValidator,
  sent: meterQuantitiesValidator,
  decidedAt: v.number(),
  closedAt: v.union(v.number(), v.null()),
  reconciliation: v.union(reconciliationViewValidator, v.null()),
});

async function accountHandler(ctx: QueryCtx, args: { userId: Id<"users"> }) {
  const user = await requireAccount(ctx, args.userId);
  const cursors = await ctx.db
    .query("overageCursors")
    .withIndex("by_userId_and_month", (q) => q.eq("userId", args.userId))
    .order("desc")
    .take(SHOWN.months);
  const months = [];
  for (const c of cursors) {
    const r = await ctx.db
      .query("overageReconciliations")
      .withIndex("by_userId_and_month", (q) => q.eq("userId", args.userId).eq("month", c.month))
      .unique();
    months.push({
      month: c.month,
      provider: c.provider,
      plan: c.plan,
      reported: c.reported,
      sent: c.sent,
      decidedAt: c.decidedAt,
      closedAt: c.closedAt ?? null,
      reconciliation: r === null ? null : reconciliationView(r, user.email),
    });
  }
  // Newest first across months: the index orders by month, then by creation within it.
  const rows = await ctx.db
    .query("overageOutbox")
    .withIndex("by_userId_and_month", (q) => q.eq("userId", args.userId))
    .order("desc")
    .take(SHOWN.outbox);
  return {
    bill: await monthBillOf(ctx, user, monthOf(Date.now())),
    months,
    outbox: rows.map(outboxView),
  };
}

/** An account's overage: this month's bill, its months (newest first) and latest outbox rows. */
export const account = supportQuery({
  args: { userId: v.id("users") },
  returns: v.object({ bill: monthBillValidator, months: v.array(monthViewValidator), outbox: v.array(outboxViewValidator) }),
  handler: accountHandler,
});

async function discrepanciesHandler(ctx: QueryCtx, args: { paginationOpts: { numItems: number; cursor: string | null } }) {
  const page = await ctx.db
    .query("overageReconciliations")
    .withIndex("by_status_and_checkedAt", (q) => q.eq("status", "discrepancy"))
    .order("desc")
    .paginate(args.paginationOpts);
  const views = [];
  for (const r of page.page) {
    const user = await ctx.db.get("users", r.userId);
    views.push(reconciliationView(r, user?.email ?? null));
  }
  return { ...page, page: views };
}

/** Every account-month whose last check found a discrepancy, newest check first. */
export const discrepancies = supportQuery({
  args: { paginationOpts: paginationOptsValidator },
  returns: paginationResultValidator(reconciliationViewValidator),
  handler: discrepanciesHandler,
});

async function resendHandler(ctx: MutationCtx & { user: Doc<"users"> }, args: { identifier: string; reason: string }) {
  const reason = args.reason.trim();
  if (reason === "") fail("INVALID_ARGUMENT", "Say why the overage is resent (it is written to the audit log).");
  const row = await ctx.db
    .query("overageOutbox")
    .withIndex("by_identifier", (q) => q.eq("identifier", args.identifier))
    .unique();
  if (row === null) fail("NOT_FOUND", `No overage row has the identifier ${args.identifier}.`);
  if (row.status !== "failed") fail("CONFLICT", `That row is ${row.status}: only a failed row is resent.`);
  const workId = await requeueOverage(ctx, row);
  await audit(ctx, actorOf(ctx.user), "billing.overage.resent", { type: "user", id: row.userId }, reason, {
    identifier: row.identifier,
    lastError: row.lastError ?? null,
  });
  return { status: "pending" as const, workId };
}

/**
 * Sends a failed row again, under the same identifier (the provider drops it if an earlier
 * attempt did land). Stripe remembers identifiers for at least 24 hours: for an older row,
 * check the month's reconciliation (the provider's totals) first.
 */
export const resend = supportMutation({
  args: { identifier: v.string(), reason: v.string() },
  returns: v.object({ status: v.literal("pending"), workId: v.string() }),
  handler: resendHandler,
});

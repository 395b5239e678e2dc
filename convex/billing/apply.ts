// Applying a billing fact (model/billing/facts.ts) inside the webhook's one mutation: the
// subscription, checkout or invoice row is upserted by the provider's id when the fact is newer
// than what the row holds (model/billing/ordering.ts), then the account is brought to the state
// its governing subscription calls for (model/billing/lifecycle.ts) through the account state
// machine, with an audit row per step. Also used by support's re-apply and the re-fetch job.
import { internal } from "../_generated/api";
import type { Doc, Id } from "../_generated/dataModel";
import { env, type MutationCtx, type QueryCtx } from "../_generated/server";
import { applyStateEvent } from "../lib/accounts";
import { followAccount, liveIdentity } from "../identity/lifecycle";
import { type Actor, audit } from "../lib/audit";
import { raiseOpsAlert } from "../lib/opsAlerts";
import { formatDate } from "../model/email/templates";
import type {
  BillingFact,
  BillingProviderId,
  CheckoutFact,
  InvoiceFact,
  Party,
  SubscriptionFact,
  SubscriptionSnapshot,
} from "../model/billing/facts";
import { decideSnapshot, invoiceMovesForward } from "../model/billing/ordering";
import { project } from "../model/rows";
import {
  accountTargetOf,
  DAY_MS,
  governing,
  graceDays,
  isPaidPlan,
  pathTo,
  planOfSubscription,
} from "../model/billing/lifecycle";
import { priceBook } from "../providers/billing/config";

export type ApplyStatus = "applied" | "ignored" | "failed";

export interface ApplyResult {
  status: ApplyStatus;
  /** What happened, for the provider's answer and the support console ("account trial -> active"). */
  outcome: string;
  userId?: Id<"users">;
  /** A same-second tie was settled by the tie-breakers: re-fetch the subscription to be sure. */
  refetch?: { subscriptionId: string; atVersion: number };
}

/** Changes a provider's events make are made by no person: the audit trail names the provider. */
export function providerActor(provider: BillingProviderId): Actor {
  return { label: provider };
}

/** Changes the scheduler makes (grace period over, trial over). */
export const BILLING_ACTOR: Actor = { label: "billing" };

const CENTS_TO_MICROS = 10_000;

const ignored = (outcome: string, userId?: Id<"users">): ApplyResult => ({ status: "ignored", outcome, userId });
const failed = (outcome: string, userId?: Id<"users">): ApplyResult => ({ status: "failed", outcome, userId });

// ---- customers ----

/**
 * Links a provider customer to an account: the billingCustomers row (how webhooks find the
 * account) and, the first time, users.stripeCustomerId / polarCustomerId and billingProvider.
 * Returns the customer id the account keeps (the first one linked).
 */
export async function rememberCustomer(
  ctx: MutationCtx,
  user: Doc<"users">,
  provider: BillingProviderId,
  customerId: string,
): Promise<string> {
  const link = await ctx.db
    .query("billingCustomers")
    .withIndex("by_provider_and_customerId", (q) => q.eq("provider", provider).eq("customerId", customerId))
    .first();
  if (link === null) {
    await ctx.db.insert("billingCustomers", { userId: user._id, provider, customerId, createdAt: Date.now() });
  }
  const field = provider === "stripe" ? "stripeCustomerId" : "polarCustomerId";
  const stored = user[field];
  if (stored === undefined || user.billingProvider === undefined) {
    await ctx.db.patch("users", user._id, {
      ...(stored === undefined ? { [field]: customerId } : {}),
      ...(user.billingProvider === undefined ? { billingProvider: provider } : {}),
    });
  }
  return stored ?? customerId;
}

/**
 * The account a fact is about: by the provider's customer id (linked at checkout), else by the
 * user id we put on the provider's object. Only ids of existing accounts count.
 */
async function accountFor(ctx: MutationCtx, provider: BillingProviderId, party: Party): Promise<Doc<"users"> | null> {
  if (party.customerId !== null) {
    const customerId = party.customerId;
    const link = await ctx.db
      .query("billingCustomers")
      .withIndex("by_provider_and_customerId", (q) => q.eq("provider", provider).eq("customerId", customerId))
      .first();
    if (link !== null) return await ctx.db.get("users", link.userId);
  }
  const id = party.userHint === null ? null : ctx.db.normalizeId("users", party.userHint);
  const user = id === null ? null : await ctx.db.get("users", id);
  if (user !== null && party.customerId !== null) await rememberCustomer(ctx, user, provider, party.customerId);
  return user;
}

// ---- subscriptions ----

type SubscriptionRow = Doc<"subscriptions">;

/** A stored row in the terms of model/billing (null for absent optional fields). */
export function snapshotOfRow(row: SubscriptionRow): SubscriptionSnapshot & { provisional: boolean } {
  return {
    subscriptionId: row.providerSubscriptionId,
    version: row.providerUpdatedAt,
    ...project(row, ["status", "ended", "cancelAtPeriodEnd", "provisional"], ["cancelAt", "currentPeriodStart", "currentPeriodEnd"]),
  };
}

async function subscriptionRow(ctx: MutationCtx, provider: BillingProviderId, subscriptionId: string): Promise<SubscriptionRow | null> {
  return await ctx.db
    .query("subscriptions")
    .withIndex("by_provider_and_providerSubscriptionId", (q) =>
      q.eq("provider", provider).eq("providerSubscriptionId", subscriptionId),
    )
    .unique();
}

/** Writes a snapshot onto the row (or a new row): the fields the provider owns, and the grace bookkeeping. */
async function storeSnapshot(
  ctx: MutationCtx,
  provider: BillingProviderId,
  user: Doc<"users">,
  row: SubscriptionRow | null,
  s: SubscriptionSnapshot & { customerId: string | null },
  plan: Doc<"subscriptions">["plan"],
): Promise<void> {
  const pastDue = !s.ended && s.status === "past_due";
  const fields = {
    userId: user._id,
    provider,
    providerSubscriptionId: s.subscriptionId,
    ...(s.customerId !== null ? { customerId: s.customerId } : {}),
    plan,
    status: s.status,
    ended: s.ended,
    currentPeriodStart: s.currentPeriodStart ?? undefined,
    currentPeriodEnd: s.currentPeriodEnd ?? undefined,
    cancelAtPeriodEnd: s.cancelAtPeriodEnd,
    cancelAt: s.cancelAt ?? undefined,
    providerUpdatedAt: s.version,
    provisional: false,
    // The grace period runs from the provider time the subscription first became past_due.
    pastDueSince: pastDue ? (row?.status === "past_due" && row.pastDueSince !== undefined ? row.pastDueSince : s.version) : undefined,
    graceEndsAt: pastDue ? row?.graceEndsAt : undefined,
    graceJobId: pastDue ? row?.graceJobId : undefined,
    updatedAt: Date.now(),
  };
  if (row === null) {
    await ctx.db.insert("subscriptions", fields);
    return;
  }
  // Out of past_due: the grace period's scheduled end no longer applies.
  if (!pastDue && row.graceJobId !== undefined) await cancelIfPending(ctx, row.graceJobId);
  await ctx.db.replace("subscriptions", row._id, fields);
}

/** Cancels a scheduled function that has not started (one that ran or is running checks the row itself). */
async function cancelIfPending(ctx: MutationCtx, jobId: Id<"_scheduled_functions">): Promise<void> {
  const job = await ctx.db.system.get("_scheduled_functions", jobId);
  if (job?.state.kind === "pending") await ctx.scheduler.cancel(jobId);
}

async function applySubscription(
  ctx: MutationCtx,
  provider: BillingProviderId,
  fact: SubscriptionFact,
  opts: { forceAtVersion?: number } = {},
): Promise<ApplyResult> {
  const user = await accountFor(ctx, provider, fact);
  if (user === null) return failed("no_account");
  const row = await subscriptionRow(ctx, provider, fact.subscriptionId);
  let tie = false;
  let snapshot: SubscriptionFact = fact;
  if (opts.forceAtVersion !== undefined) {
    // A re-fetch: the provider's current state, stored at the version of the tie it settles,
    // unless the row has moved on since (a newer event already told us more).
    if (row === null || row.providerUpdatedAt !== opts.forceAtVersion) return ignored("refetch_superseded", user._id);
    if (row.ended && !fact.ended) return ignored("already_ended", user._id);
    snapshot = { ...fact, version: opts.forceAtVersion };
  } else {
    const decision = decideSnapshot(row === null ? null : snapshotOfRow(row), fact);
    if (!decision.apply) return ignored(decision.why, user._id);
    tie = decision.tie;
  }
  const plan = planOfSubscription(fact.priceIds, fact.planHint, priceBook(provider)) ?? row?.plan ?? null;
  if (plan === null) return failed(`unknown_plan: no configured price among ${fact.priceIds.join(", ") || "(none)"}`, user._id);
  await storeSnapshot(ctx, provider, user, row, snapshot, plan);
  const account = await reconcileAccount(ctx, user._id, providerActor(provider));
  return {
    status: "applied",
    outcome: `subscription ${snapshot.ended ? "ended" : snapshot.status}; ${account}`,
    userId: user._id,
    ...(tie && provider === "stripe" ? { refetch: { subscriptionId: fact.subscriptionId, atVersion: fact.version } } : {}),
  };
}

/**
 * A completed checkout activates the account at once, before (or without) the subscription's
 * own event: it writes a provisional row that any real snapshot replaces. Only a paid checkout
 * (or one that needs no payment) counts, and never for a subscription that already ended.
 */
async function applyCheckout(ctx: MutationCtx, provider: BillingProviderId, fact: CheckoutFact): Promise<ApplyResult> {
  if (!fact.paid) return ignored(`awaiting_payment (${fact.paymentStatus})`);
  const user = await accountFor(ctx, provider, fact);
  if (user === null) return failed("no_account");
  if (fact.subscriptionId === null) return failed("checkout without a subscription", user._id);
  const plan = fact.planHint;
  if (plan === null || !isPaidPlan(plan)) return failed(`unknown_plan: checkout metadata plan is ${plan ?? "missing"}`, user._id);
  const row = await subscriptionRow(ctx, provider, fact.subscriptionId);
  if (row?.ended) return ignored("already_ended", user._id);
  if (row === null) {
    await ctx.db.insert("subscriptions", {
      userId: user._id,
      provider,
      providerSubscriptionId: fact.subscriptionId,
      ...(fact.customerId !== null ? { customerId: fact.customerId } : {}),
      plan,
      status: fact.paymentStatus === "no_payment_required" ? "trialing" : "active",
      ended: false,
      cancelAtPeriodEnd: false,
      providerUpdatedAt: fact.version,
      provisional: true,
      updatedAt: Date.now(),
    });
  }
  const account = await reconcileAccount(ctx, user._id, providerActor(provider));
  return { status: "applied", outcome: `checkout paid; ${account}`, userId: user._id };
}

// ---- invoices ----

async function applyInvoice(ctx: MutationCtx, provider: BillingProviderId, fact: InvoiceFact): Promise<ApplyResult> {
  const user = await accountFor(ctx, provider, fact);
  if (user === null) return failed("no_account");
  const row = await ctx.db
    .query("invoices")
    .withIndex("by_provider_and_providerInvoiceId", (q) => q.eq("provider", provider).eq("providerInvoiceId", fact.invoiceId))
    .unique();
  const fields = {
    userId: user._id,
    provider,
    providerInvoiceId: fact.invoiceId,
    providerSubscriptionId: fact.subscriptionId ?? undefined,
    amountMicros: fact.amountCents * CENTS_TO_MICROS,
    currency: fact.currency,
    periodStart: fact.periodStart ?? undefined,
    periodEnd: fact.periodEnd ?? undefined,
    status: fact.status,
    number: fact.number ?? undefined,
    hostedUrl: fact.hostedUrl ?? undefined,
    createdAt: fact.createdAt,
    providerUpdatedAt: fact.version,
  };
  if (row === null) {
    await ctx.db.insert("invoices", fields);
    return { status: "applied", outcome: `invoice ${fact.status}`, userId: user._id };
  }
  if (!invoiceMovesForward(row.status, fact.status)) {
    // The status never moves back; a link the first event lacked is still worth keeping.
    if (row.hostedUrl === undefined && fact.hostedUrl !== null) await ctx.db.patch("invoices", row._id, { hostedUrl: fact.hostedUrl });
    return ignored(row.status === fact.status ? "unchanged" : `stale: invoice already ${row.status}`, user._id);
  }
  await ctx.db.patch("invoices", row._id, {
    ...fields,
    hostedUrl: fields.hostedUrl ?? row.hostedUrl,
    number: fields.number ?? row.number,
    periodStart: fields.periodStart ?? row.periodStart,
    periodEnd: fields.periodEnd ?? row.periodEnd,
    // A refund carries the refunded order's total; the amount billed stays the first figure.
    amountMicros: fact.status === "refunded" || fact.status === "partially_refunded" ? row.amountMicros : fields.amountMicros,
  });
  return { status: "applied", outcome: `invoice ${row.status} -> ${fact.status}`, userId: user._id };
}

// ---- the account ----

/** In-app alerts billing raises on the customer's dashboard (usage/alerts.ts lists them). */
const ACCOUNT_ALERTS = {
  payment_failed: {
    severity: "warning",
    message: "Your last payment failed. Update your payment method under Billing > Manage billing to keep your service.",
  },
  account_suspended: {
    severity: "critical",
    message: "Your account is suspended: the payment did not go through. Update your payment method under Billing > Manage billing.",
  },
} as const;

export async function alertAccount(ctx: MutationCtx, userId: Id<"users">, kind: keyof typeof ACCOUNT_ALERTS): Promise<void> {
  await ctx.db.insert("alerts", { userId, kind, ...ACCOUNT_ALERTS[kind], at: Date.now() });
  if (kind === "payment_failed") {
    await raiseOpsAlert(ctx, { rule: "payment_failed", subject: userId, userId, message: "An invoice payment failed; the account is past due." });
  }
}

const MAX_SUBSCRIPTIONS_READ = 50;

export async function subscriptionsOf(ctx: QueryCtx, userId: Id<"users">): Promise<SubscriptionRow[]> {
  return await ctx.db
    .query("subscriptions")
    .withIndex("by_userId", (q) => q.eq("userId", userId))
    .take(MAX_SUBSCRIPTIONS_READ);
}

/** The subscription that decides the account (model/billing/lifecycle.ts `governing`). */
export function governingRow(rows: SubscriptionRow[]): SubscriptionRow | null {
  const chosen = governing(rows.map((row) => ({ ...snapshotOfRow(row), row })));
  return chosen === null ? null : chosen.row;
}

/** The grace period's end is scheduled once per stretch of past_due; recovery cancels it. */
async function ensureGrace(ctx: MutationCtx, row: SubscriptionRow): Promise<number> {
  if (row.graceEndsAt !== undefined && row.graceJobId !== undefined) return row.graceEndsAt;
  const endsAt = (row.pastDueSince ?? Date.now()) + graceDays(env.BILLING_GRACE_DAYS) * DAY_MS;
  const jobId = await ctx.scheduler.runAt(Math.max(endsAt, Date.now()), internal.billing.dunning.graceExpired, {
    subscriptionId: row._id,
  });
  await ctx.db.patch("subscriptions", row._id, { graceEndsAt: endsAt, graceJobId: jobId });
  return endsAt;
}

/**
 * One deprovisioning request per ended subscription. The cancel that precedes it already made the
 * identity follow the account (followAccount), so it is recorded fulfilled unless an identity is
 * still live.
 */
async function ensureDeprovisionRequest(ctx: MutationCtx, user: Doc<"users">, row: SubscriptionRow, actor: Actor): Promise<void> {
  const open = await ctx.db
    .query("deprovisionRequests")
    .withIndex("by_provider_and_providerSubscriptionId", (q) =>
      q.eq("provider", row.provider).eq("providerSubscriptionId", row.providerSubscriptionId),
    )
    .first();
  if (open !== null) return;
  const now = Date.now();
  const live = await liveIdentity(ctx, user._id);
  const requestId = await ctx.db.insert("deprovisionRequests", {
    userId: user._id,
    provider: row.provider,
    providerSubscriptionId: row.providerSubscriptionId,
    requestedAt: now,
    ...(live === null ? { status: "fulfilled" as const, fulfilledAt: now } : { status: "requested" as const }),
  });
  await audit(ctx, actor, "account.deprovision_requested", { type: "user", id: user._id }, "subscription ended", {
    provider: row.provider,
    subscriptionId: row.providerSubscriptionId,
    deprovisionRequestId: requestId,
  });
}

/**
 * Brings the account to the state and plan its governing subscription calls for, one legal
 * state-machine step at a time (each with its audit row). An account support suspended stays
 * suspended (only a cancellation goes through); lifting it is support's call.
 */
export async function reconcileAccount(ctx: MutationCtx, userId: Id<"users">, actor: Actor): Promise<string> {
  let user = await ctx.db.get("users", userId);
  if (user === null) return "account gone";
  const rows = await subscriptionsOf(ctx, userId);
  const gov = governingRow(rows);
  if (gov === null) return "no subscription";
  const target = accountTargetOf(gov);
  const from = user.state;
  const notes: string[] = [];
  if (target !== null) {
    const heldBySupport = user.state === "suspended" && user.stateBeforeSuspension !== undefined;
    if (heldBySupport && target !== "canceled") {
      notes.push("account suspended by support: state left as it is");
    } else {
      const why = `${gov.provider} subscription ${gov.providerSubscriptionId} is ${gov.ended ? "ended" : gov.status}`;
      for (const step of pathTo(user.state, target)) {
        await applyStateEvent(ctx, user, { type: step }, actor, why);
        user = (await ctx.db.get("users", userId))!;
        if (step === "payment_failed") await alertAccount(ctx, userId, "payment_failed");
        if (step === "grace_expired") await alertAccount(ctx, userId, "account_suspended");
      }
    }
    if (gov.plan !== user.plan) {
      await ctx.db.patch("users", userId, { plan: gov.plan });
      await audit(ctx, actor, "account.plan_changed", { type: "user", id: userId }, `${gov.provider} subscription ${gov.providerSubscriptionId}`, {
        fromPlan: user.plan,
        toPlan: gov.plan,
        fromState: user.state,
        toState: user.state,
      });
      notes.push(`plan ${user.plan} -> ${gov.plan}`);
      // The plan decides the identity (a checkout's plan lands after the state moved).
      await followAccount(ctx, userId, actor);
      user = (await ctx.db.get("users", userId))!;
    }
  }
  if (!gov.ended && gov.status === "past_due" && user.state === "past_due") {
    const endsAt = await ensureGrace(ctx, gov);
    notes.push(`grace until ${formatDate(endsAt)}`);
  }
  if (gov.ended && target === "canceled") await ensureDeprovisionRequest(ctx, user, gov, actor);
  const moved = user.state === from ? `account ${from}` : `account ${from} -> ${user.state}`;
  return [moved, ...notes].join("; ");
}

/** Applies one normalised fact; never throws for a fact it cannot use (that is a `failed` outcome). */
export async function applyFact(
  ctx: MutationCtx,
  provider: BillingProviderId,
  fact: BillingFact,
  opts: { forceAtVersion?: number } = {},
): Promise<ApplyResult> {
  switch (fact.kind) {
    case "subscription":
      return await applySubscription(ctx, provider, fact, opts);
    case "checkout":
      return await applyCheckout(ctx, provider, fact);
    case "invoice":
      return await applyInvoice(ctx, provider, fact);
    case "ignored":
      return ignored(fact.reason);
    case "malformed":
      return ignored(`malformed: ${fact.reason}`);
  }
}

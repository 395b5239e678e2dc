// "Download my data": everything the account holds, as JSON, for the signed-in person. Two parts,
// so a long history never makes one oversized query: `account` (profile, billing, keys' metadata,
// identity, messages, grants, audit rows about the account, rollups; each list capped at
// SECTION_CAP rows with a `truncated` flag) and `usageEvents`, one page of USAGE_PAGE events per
// call that the Settings page follows to the end and stitches into one file. Secrets never leave:
// no key hashes, token hashes, salts, sealed codes or encrypted passwords.
import { v } from "convex/values";
import type { Doc } from "../_generated/dataModel";
import type { QueryCtx } from "../_generated/server";
import { userQuery } from "../functions";
import { rowsOfUser } from "./erase";

export const SECTION_CAP = 1000;
export const USAGE_PAGE = 1000;
/** The export format's version, in the file, so a reader knows what it holds. */
export const EXPORT_FORMAT = 1;

function capped<T>(rows: T[]): { rows: T[]; truncated: boolean } {
  return rows.length > SECTION_CAP ? { rows: rows.slice(0, SECTION_CAP), truncated: true } : { rows, truncated: false };
}

async function accountPart(ctx: QueryCtx, user: Doc<"users">) {
  const userId = user._id;
  const take = SECTION_CAP + 1;
  const [subscriptions, invoices, keys, monthly, daily, identities, sms, signal, grants, uris, signups, emails, alerts, audit, credentials] = await Promise.all([
    ctx.db.query("subscriptions").withIndex("by_userId", (q) => q.eq("userId", userId)).take(take),
    ctx.db.query("invoices").withIndex("by_userId_and_createdAt", (q) => q.eq("userId", userId)).order("desc").take(take),
    ctx.db.query("apiKeys").withIndex("by_userId", (q) => q.eq("userId", userId)).take(take),
    ctx.db.query("usageMonthly").withIndex("by_userId_and_month", (q) => q.eq("userId", userId)).take(take),
    ctx.db.query("usageDaily").withIndex("by_userId_and_day_and_model", (q) => q.eq("userId", userId)).order("desc").take(take),
    ctx.db.query("identities").withIndex("by_userId", (q) => q.eq("userId", userId)).take(take),
    ctx.db.query("incomingSms").withIndex("by_userId_and_receivedAt", (q) => q.eq("userId", userId)).order("desc").take(take),
    ctx.db.query("signalMessages").withIndex("by_userId_and_receivedAt", (q) => q.eq("userId", userId)).order("desc").take(take),
    ctx.db.query("oauthGrants").withIndex("by_userId_and_revokedAt", (q) => q.eq("userId", userId)).take(take),
    ctx.db.query("oauthRedirectUris").withIndex("by_userId_and_uri", (q) => q.eq("userId", userId)).take(take),
    ctx.db.query("signupAttempts").withIndex("by_userId_and_at", (q) => q.eq("userId", userId)).take(take),
    ctx.db.query("emailOutbox").withIndex("by_userId_and_queuedAt", (q) => q.eq("userId", userId)).order("desc").take(take),
    ctx.db.query("alerts").withIndex("by_userId_and_at", (q) => q.eq("userId", userId)).order("desc").take(take),
    ctx.db.query("auditLogs").withIndex("by_targetType_and_targetId", (q) => q.eq("targetType", "user").eq("targetId", userId)).order("desc").take(take),
    rowsOfUser(ctx, "providerCredentials", userId, take).then((rows) => rows ?? []),
  ]);
  return {
    format: EXPORT_FORMAT,
    profile: {
      id: user._id,
      email: user.email,
      name: user.name ?? null,
      role: user.role,
      state: user.state,
      plan: user.plan,
      createdAt: user._creationTime,
      trialEndsAt: user.trialEndsAt ?? null,
      lastSeenAt: user.lastSeenAt,
      billingProvider: user.billingProvider ?? null,
      stripeCustomerId: user.stripeCustomerId ?? null,
      polarCustomerId: user.polarCustomerId ?? null,
      onboardingDismissedAt: user.onboardingDismissedAt ?? null,
      marketingOptOutAt: user.marketingOptOutAt ?? null,
    },
    subscriptions: capped(subscriptions.map((s) => ({
      provider: s.provider, subscriptionId: s.providerSubscriptionId, plan: s.plan, status: s.status, ended: s.ended,
      currentPeriodStart: s.currentPeriodStart ?? null, currentPeriodEnd: s.currentPeriodEnd ?? null, cancelAtPeriodEnd: s.cancelAtPeriodEnd,
    }))),
    invoices: capped(invoices.map((i) => ({
      provider: i.provider, invoiceId: i.providerInvoiceId, number: i.number ?? null, amountMicros: i.amountMicros, currency: i.currency,
      status: i.status, periodStart: i.periodStart ?? null, periodEnd: i.periodEnd ?? null, hostedUrl: i.hostedUrl ?? null, createdAt: i.createdAt,
    }))),
    // Metadata only: the hash of a secret is never exported.
    apiKeys: capped(keys.map((k) => ({
      id: k._id, name: k.name, environment: k.environment, prefix: k.prefix, scopes: k.scopes, createdAt: k.createdAt, createdBy: k.createdBy,
      lastUsedAt: k.lastUsedAt ?? null, lastUsedIp: k.lastUsedIp ?? null, expiresAt: k.expiresAt ?? null, revokedAt: k.revokedAt ?? null,
    }))),
    usageMonthly: capped(monthly.map((m) => ({ month: m.month, tokensIn: m.tokensIn, tokensOut: m.tokensOut, characters: m.characters, costMicros: m.costMicros, requests: m.requests }))),
    usageDaily: capped(daily.map((d) => ({ day: d.day, model: d.model, tokensIn: d.tokensIn, tokensOut: d.tokensOut, characters: d.characters, costMicros: d.costMicros, requests: d.requests }))),
    identities: capped(identities.map((i) => ({
      phase: i.phase, workspaceEmail: i.workspaceEmail ?? null, phoneNumber: i.phoneNumber ?? null, signalStatus: i.signalStatus,
      createdAt: i.createdAt, activatedAt: i.activatedAt ?? null, canceledAt: i.canceledAt ?? null, deprovisionedAt: i.deprovisionedAt ?? null,
    }))),
    incomingSms: capped(sms.map((m) => ({ to: m.to, from: m.from, text: m.text, receivedAt: m.receivedAt }))),
    signalMessages: capped(signal.map((m) => ({ number: m.number, source: m.source, message: m.message, sentAt: m.sentAt, receivedAt: m.receivedAt }))),
    oauthGrants: capped(grants.map((g) => ({
      instanceId: g.instanceId, scopes: g.scopes, via: g.via, createdAt: g.createdAt, lastUsedAt: g.lastUsedAt ?? null, lastIp: g.lastIp ?? null,
      revokedAt: g.revokedAt ?? null, revokedBy: g.revokedBy ?? null,
    }))),
    oauthRedirectUris: capped(uris.map((u) => ({ uri: u.uri, createdAt: u.createdAt }))),
    // Metadata only (the table's hash, salt and lookup id are never exported).
    providerCredentials: capped(credentials.map((c) => ({ provider: c.provider, scopes: c.scopes, issuedAt: c.issuedAt, expiresAt: c.expiresAt ?? null, status: c.status }))),
    signupAttempts: capped(signups.map((s) => ({ outcome: s.outcome, reason: s.reason ?? null, at: s.at }))),
    emails: capped(emails.map((e) => ({ to: e.to, template: e.template, category: e.category, status: e.status, subject: e.subject ?? null, queuedAt: e.queuedAt, sentAt: e.sentAt ?? null }))),
    alerts: capped(alerts.map((a) => ({ kind: a.kind, severity: a.severity, message: a.message, at: a.at, dismissedAt: a.dismissedAt ?? null }))),
    auditLog: capped(audit.map((a) => ({ action: a.action, by: a.actorLabel, reason: a.reason ?? null, metadata: a.metadata ?? null, at: a.at }))),
  };
}

export const mine = userQuery({
  args: { part: v.union(v.literal("account"), v.literal("usageEvents")), cursor: v.union(v.string(), v.null()) },
  // The part's JSON text (the file is assembled in the browser) and where the next page starts.
  returns: v.object({ json: v.string(), nextCursor: v.union(v.string(), v.null()) }),
  handler: async (ctx, { part, cursor }) => {
    if (part === "account") return { json: JSON.stringify(await accountPart(ctx, ctx.user)), nextCursor: null };
    const page = await ctx.db
      .query("usageEvents")
      .withIndex("by_userId_and_at", (q) => q.eq("userId", ctx.user._id))
      .paginate({ numItems: USAGE_PAGE, cursor });
    const events = page.page.map((e) => ({
      at: e.at, requestId: e.requestId, kind: e.kind, provider: e.provider, model: e.model, tokensIn: e.tokensIn, tokensOut: e.tokensOut,
      characters: e.characters, costMicros: e.costMicros, usageSource: e.usageSource, status: e.status, httpStatus: e.httpStatus,
      latencyMs: e.latencyMs, apiKeyId: e.apiKeyId ?? null, instanceId: e.instanceId ?? null,
    }));
    return { json: JSON.stringify(events), nextCursor: page.isDone ? null : page.continueCursor };
  },
});

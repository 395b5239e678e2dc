// Sending one outbox row. The providerPool workpool runs `send` (attempts and backoff are the
// workpool's record, lib/emailOutbox.ts); `prepare` decides and renders in one mutation; the
// workpool's onComplete, `recordOutcome`, writes the outcome on the row in one mutation.
//
//   queued ──prepare──▶ sending ──provider accepted──▶ sent
//      │                   └──permanent rejection, or retries exhausted──▶ failed (+ alert)
//      └──prepare: account gone, unsubscribed (marketing)──▶ skipped
import { vOnCompleteArgs, type RunResult } from "@convex-dev/workpool";
import { v, type Infer } from "convex/values";
import { internal } from "../_generated/api";
import type { Doc, Id } from "../_generated/dataModel";
import { env, type ActionCtx, type MutationCtx } from "../_generated/server";
import { internalAction, internalMutation } from "../functions";
import { audit, type Actor } from "../lib/audit";
import { monthTotals } from "../lib/usageTotals";
import { keyStatus } from "../model/apiKeyStatus";
import { monthOf, monthRange } from "../model/calendar";
import { renderEmail, type MailFacts } from "../model/email/templates";
import { signUnsubscribeToken } from "../model/email/unsubscribe";
import { sendEmail } from "../providers/email";
import schema from "../schema";

const outbox = schema.tables.emailOutbox.validator.fields;

/** Who the audit log names for delivery steps: no person, the outbox itself. */
const DELIVERY_ACTOR: Actor = { label: "email delivery" };

const prepared = v.union(
  v.object({ kind: v.literal("skip") }),
  v.object({ kind: v.literal("send"), to: v.string(), subject: v.string(), content: v.object(outbox.content.fields) }),
);
type Prepared = Infer<typeof prepared>;
type Content = NonNullable<Doc<"emailOutbox">["content"]>;

const SKIP: Prepared = { kind: "skip" };

function siteUrl(): string | null {
  return env.CONVEX_SITE_URL ? env.CONVEX_SITE_URL.replace(/\/+$/, "") : null;
}

/** The unsubscribe URL a marketing mail links to and names in List-Unsubscribe. */
export async function unsubscribeUrlFor(site: string, secret: string, userId: Id<"users">): Promise<string> {
  return `${site}/email/unsubscribe?token=${encodeURIComponent(await signUnsubscribeToken(secret, userId))}`;
}

/** Requests and tokens since the account was created (every month it has existed, live). */
async function usageSince(ctx: MutationCtx, user: Doc<"users">, now: number): Promise<{ requests: number; tokens: number }> {
  let requests = 0;
  let tokens = 0;
  // The series ends a week after signup, so this is one or two months; the bound only guards
  // a mail queued for a long-gone account.
  let month = monthOf(user._creationTime);
  for (let i = 0; i < 3; i++) {
    const { totals } = await monthTotals(ctx, user._id, month);
    requests += totals.requests;
    tokens += totals.tokensIn + totals.tokensOut;
    const next = monthRange(month).end;
    if (next > now) break;
    month = monthOf(next);
  }
  return { requests, tokens };
}

/** The first live key still usable: the one signup made, unless it was revoked since. */
async function firstKeyPrefix(ctx: MutationCtx, userId: Id<"users">, now: number): Promise<string | null> {
  const unrevoked = await ctx.db
    .query("apiKeys")
    .withIndex("by_userId_and_revokedAt", (q) => q.eq("userId", userId).eq("revokedAt", undefined))
    .take(50);
  const key = unrevoked.find((k) => k.environment === "live" && keyStatus(k, now) !== "revoked");
  return key?.prefix ?? null;
}

/** What the template needs, or why it cannot be rendered on this deployment. */
async function factsFor(ctx: MutationCtx, row: Doc<"emailOutbox">, user: Doc<"users">): Promise<MailFacts | { error: string }> {
  const appUrl = env.APP_URL?.replace(/\/+$/, "");
  const site = siteUrl();
  if (!appUrl) return { error: "APP_URL is not set on this deployment: the mail's links would lead nowhere." };
  if (!site) return { error: "CONVEX_SITE_URL is not set: the mail cannot name the API's base URL." };
  let unsubscribeUrl: string | null = null;
  if (row.category === "marketing") {
    // No tip may go out that cannot be stopped, and an unsigned link could stop anyone's.
    if (!env.ENCRYPTION_KEY) return { error: "ENCRYPTION_KEY is not set: marketing mail needs a signed unsubscribe link." };
    unsubscribeUrl = await unsubscribeUrlFor(site, env.ENCRYPTION_KEY, user._id);
  }
  const now = Date.now();
  return {
    appUrl,
    apiBaseUrl: `${site}/v1`,
    email: user.email,
    plan: user.plan,
    trialEndsAt: user.trialEndsAt ?? null,
    keyPrefix: await firstKeyPrefix(ctx, user._id, now),
    usage: await usageSince(ctx, user, now),
    unsubscribeUrl,
  };
}

function listUnsubscribeHeaders(url: string): Content["headers"] {
  // RFC 8058 one-click: the mailbox provider POSTs "List-Unsubscribe=One-Click" to the URL.
  return [
    { name: "List-Unsubscribe", value: `<${url}>` },
    { name: "List-Unsubscribe-Post", value: "List-Unsubscribe=One-Click" },
  ];
}

function auditTarget(row: Doc<"emailOutbox">) {
  return { type: "user", id: row.userId ?? row.to };
}

async function markSkipped(ctx: MutationCtx, row: Doc<"emailOutbox">, reason: string): Promise<void> {
  await ctx.db.patch("emailOutbox", row._id, { status: "skipped", skipReason: reason });
  await audit(ctx, DELIVERY_ACTOR, `email.${row.template}.skipped`, auditTarget(row), reason, { outboxId: row._id });
}

/** failed + lastError, an alert for support and an audit row, in the caller's mutation. */
async function markFailed(ctx: MutationCtx, row: Doc<"emailOutbox">, error: string, alert = true): Promise<void> {
  const now = Date.now();
  await ctx.db.patch("emailOutbox", row._id, { status: "failed", lastError: error });
  if (alert) {
    // Not on the customer's dashboard (userId unset): provider errors are for support, who
    // find these by kind and reach the account through the outbox row.
    await ctx.db.insert("alerts", {
      kind: "email_failed",
      severity: "warning",
      message: `The ${row.template} mail to ${row.to} was not sent: ${error}`,
      at: now,
    });
  }
  await audit(ctx, DELIVERY_ACTOR, `email.${row.template}.failed`, auditTarget(row), error, { outboxId: row._id });
}

async function prepareHandler(ctx: MutationCtx, args: { outboxId: Id<"emailOutbox"> }): Promise<Prepared> {
  const row = await ctx.db.get("emailOutbox", args.outboxId);
  // A row is sent at most once: only queued rows start, and a row already `sending` is this
  // same run's retry. sent, failed and skipped are final.
  if (row === null || (row.status !== "queued" && row.status !== "sending")) return SKIP;
  // An ops alert's mail (lib/opsAlerts.ts) was rendered when queued and has no account behind it.
  if (row.template === "ops_alert") {
    if (row.subject === undefined || row.content === undefined) {
      await markFailed(ctx, row, "The ops alert mail was queued without its content.", false);
      return SKIP;
    }
    if (row.status === "queued") await ctx.db.patch("emailOutbox", row._id, { status: "sending" });
    return { kind: "send", to: row.to, subject: row.subject, content: row.content };
  }
  const user = row.userId === undefined ? null : await ctx.db.get("users", row.userId);
  if (user === null) {
    await markSkipped(ctx, row, "The account no longer exists.");
    return SKIP;
  }
  // Checked on every attempt, so an unsubscribe between two retries still stops the mail.
  if (row.category === "marketing" && user.marketingOptOutAt !== undefined) {
    await markSkipped(ctx, row, "The person unsubscribed from tips and reminders.");
    return SKIP;
  }
  // A retry sends the bytes of the first attempt: the Idempotency-Key only matches them.
  if (row.status === "sending" && row.content !== undefined && row.subject !== undefined) {
    return { kind: "send", to: row.to, subject: row.subject, content: row.content };
  }
  const facts = await factsFor(ctx, row, user);
  if ("error" in facts) {
    await markFailed(ctx, row, facts.error);
    return SKIP;
  }
  const mail = renderEmail(row.template, row.category, facts);
  const content: Content = {
    html: mail.html,
    text: mail.text,
    headers: facts.unsubscribeUrl === null ? [] : listUnsubscribeHeaders(facts.unsubscribeUrl),
  };
  await ctx.db.patch("emailOutbox", row._id, { status: "sending", subject: mail.subject, content });
  return { kind: "send", to: row.to, subject: mail.subject, content };
}

export const prepare = internalMutation({
  args: { outboxId: v.id("emailOutbox") },
  returns: prepared,
  handler: prepareHandler,
});

const sendResult = v.union(
  v.object({ kind: v.literal("skipped") }),
  v.object({ kind: v.literal("sent"), id: v.string() }),
  v.object({ kind: v.literal("rejected"), status: v.number(), error: v.string() }),
);
type SendOutcome = Infer<typeof sendResult>;

/**
 * One attempt. Throws (so the workpool retries) when the email API is unreachable, answers
 * 5xx or 429; returns `rejected` for a permanent refusal, which is never retried.
 */
async function sendHandler(ctx: ActionCtx, args: { outboxId: Id<"emailOutbox"> }): Promise<SendOutcome> {
  const mail = await ctx.runMutation(internal.email.delivery.prepare, args);
  if (mail.kind === "skip") return { kind: "skipped" };
  return await sendEmail({
    to: mail.to,
    subject: mail.subject,
    html: mail.content.html,
    text: mail.content.text,
    headers: Object.fromEntries(mail.content.headers.map((h) => [h.name, h.value])),
    idempotencyKey: args.outboxId,
  });
}

export const send = internalAction({
  args: { outboxId: v.id("emailOutbox") },
  returns: sendResult,
  handler: sendHandler,
});

async function recordOutcomeHandler(
  ctx: MutationCtx,
  args: { context: { outboxId: Id<"emailOutbox"> }; result: RunResult<SendOutcome> },
): Promise<null> {
  const row = await ctx.db.get("emailOutbox", args.context.outboxId);
  // prepare already wrote skipped (or failed, when the mail could not be rendered).
  if (row === null || row.status !== "sending") return null;
  const result = args.result;
  if (result.kind === "success" && result.returnValue.kind === "sent") {
    await ctx.db.patch("emailOutbox", row._id, {
      status: "sent",
      providerMessageId: result.returnValue.id,
      sentAt: Date.now(),
      lastError: undefined,
    });
    await audit(ctx, DELIVERY_ACTOR, `email.${row.template}.sent`, auditTarget(row), undefined, {
      outboxId: row._id,
      providerMessageId: result.returnValue.id,
    });
  } else if (result.kind === "success" && result.returnValue.kind === "rejected") {
    await markFailed(ctx, row, `The email API refused the mail (${result.returnValue.error}).`);
  } else if (result.kind === "failed") {
    await markFailed(ctx, row, `The email API kept failing; gave up after the last retry (${result.error}).`);
  } else if (result.kind === "canceled") {
    // Someone canceled the work on purpose: recorded, no alert.
    await markFailed(ctx, row, "The send was canceled.", false);
  }
  return null;
}

export const recordOutcome = internalMutation({
  args: vOnCompleteArgs(v.object({ outboxId: v.id("emailOutbox") })),
  returns: v.null(),
  handler: recordOutcomeHandler,
});

import { v } from "convex/values";
import { oauthScopeValidator } from "./oauth";

// Shared validators: functions reuse these instead of repeating shapes.
// Money is integer micro-dollars (1 USD = 1_000_000). Times are epoch milliseconds.

export const roleValidator = v.union(
  v.literal("user"),
  v.literal("support"),
  v.literal("admin"),
);

export const planValidator = v.union(
  v.literal("trial"),
  v.literal("basic"),
  v.literal("pro"),
);

export const accountStateValidator = v.union(
  v.literal("pending"),
  v.literal("trial"),
  v.literal("active"),
  v.literal("past_due"),
  v.literal("suspended"),
  v.literal("canceled"),
);

export const billingProviderValidator = v.union(
  v.literal("stripe"),
  v.literal("polar"),
);

export const usageKindValidator = v.union(
  v.literal("chat"),
  v.literal("completion"),
  v.literal("embedding"),
  v.literal("speech"),
);

// Dex API operations (dexApi/record.ts): usage events counted rather than priced.
export const dexUsageKindValidator = v.union(
  v.literal("email_sent"),
  v.literal("email_deleted"),
  v.literal("signal_sent"),
  v.literal("calendar_write"),
);

/** A usage event's kind: a metered AI request, or a Dex API operation. */
export const usageEventKindValidator = v.union(...usageKindValidator.members, ...dexUsageKindValidator.members);

export const usageSourceValidator = v.union(
  v.literal("provider"),
  v.literal("estimate"),
  v.literal("reconciled"),
);

export const usageStatusValidator = v.union(
  v.literal("ok"),
  v.literal("client_abandoned"),
  v.literal("upstream_error"),
  v.literal("rejected"),
);

// Why the ledger refused a request (model/quota/admission.ts `Refusal`); the proxy turns each
// reason into OpenAI's error shape (proxy/refusals.ts).
export const refusalValidator = v.union(
  v.object({ reason: v.literal("unknown_key") }),
  v.object({ reason: v.literal("key_revoked"), prefix: v.string() }),
  v.object({ reason: v.literal("key_suspended"), prefix: v.string() }),
  v.object({ reason: v.literal("account_missing") }),
  v.object({
    reason: v.literal("token_invalid"),
    why: v.union(v.literal("unknown_token"), v.literal("not_access_token"), v.literal("expired"), v.literal("revoked")),
  }),
  v.object({ reason: v.literal("insufficient_scope"), scope: oauthScopeValidator }),
  v.object({
    reason: v.literal("credential_invalid"),
    kind: v.union(v.literal("provider_credential"), v.literal("session_token")),
    why: v.union(v.literal("unknown"), v.literal("expired"), v.literal("revoked")),
  }),
  v.object({ reason: v.literal("credential_scope"), provider: v.string(), scopes: v.array(v.string()), model: v.string() }),
  v.object({ reason: v.literal("account_inactive"), state: accountStateValidator }),
  v.object({ reason: v.literal("model_not_found"), model: v.string() }),
  v.object({ reason: v.literal("model_not_supported"), model: v.string() }),
  v.object({ reason: v.literal("model_not_in_plan"), model: v.string(), plan: planValidator }),
  v.object({ reason: v.literal("request_too_large"), plan: planValidator, holdTokens: v.number() }),
  v.object({ reason: v.literal("concurrency_limit"), plan: planValidator }),
  v.object({
    reason: v.literal("quota_exhausted"),
    plan: planValidator,
    holdTokens: v.number(),
    remainingTokens: v.number(),
    resetsAt: v.number(),
  }),
  v.object({
    reason: v.literal("rate_limited"),
    plan: planValidator,
    limit: v.union(v.literal("requests"), v.literal("tokens")),
    retryAfterMs: v.number(),
  }),
);

// Why a signup was refused (model/signup/policy.ts holds the messages people see).
export const signupRefusalReasonValidator = v.union(
  v.literal("invalid_email"),
  v.literal("disposable_email"),
  v.literal("too_many_for_email"),
  v.literal("too_many_from_ip"),
  v.literal("signups_busy"),
);

export const emailTemplateValidator = v.union(
  v.literal("welcome"),
  v.literal("followup_24h"),
  v.literal("followup_72h"),
  v.literal("followup_1w"),
  v.literal("trial_ending"),
  // A new ops alert mailed to OPS_ALERT_EMAIL (lib/opsAlerts.ts); rendered when queued.
  v.literal("ops_alert"),
);

export const emailCategoryValidator = v.union(v.literal("transactional"), v.literal("marketing"));

// queued -> sending -> sent | failed; skipped: not sent on purpose (unsubscribed, account gone).
export const emailStatusValidator = v.union(
  v.literal("queued"),
  v.literal("sending"),
  v.literal("sent"),
  v.literal("failed"),
  v.literal("skipped"),
);

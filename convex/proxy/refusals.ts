// The one table from a ledger refusal (model/quota/admission.ts) to what an OpenAI client
// expects: status, error type, code, param, message, and the retry hints the SDK obeys.
// The AI proxy and the Dex API both answer refusals through here, in the same words.
import type { AccountState } from "../model/accounts/accountState";
import type { AccessRefusal } from "../model/oauth/lifecycle";
import { getPlan } from "../model/plans";
import type { Refusal, RefusalReason } from "../model/quota/admission";
import type { RateSnapshot } from "../model/quota/balance";
import { type ErrorBody, errorResponse } from "./respond";

export interface OpenAiRefusal {
  status: number;
  error: ErrorBody;
  retryAfterSeconds?: number;
  /** false for 429s a retry cannot fix soon (quota spent, request larger than the bucket). */
  shouldRetry?: boolean;
}

const INACTIVE_MESSAGES: Record<AccountState, string> = {
  pending: "Your account is not set up yet. Finish signing up in the Poindexter dashboard.",
  trial: "",
  active: "",
  past_due: "",
  suspended: "Your account is suspended. Contact Poindexter support.",
  canceled: "Your subscription is canceled. Choose a plan in the Poindexter dashboard to use the AI proxy again.",
};

const invalidKey = (message: string): OpenAiRefusal => ({
  status: 401,
  error: { message, type: "invalid_request_error", code: "invalid_api_key" },
});

/** An OAuth access token the AI endpoints cannot use: a 401, as for a bad key (the SDK raises AuthenticationError). */
const TOKEN_MESSAGES: Record<AccessRefusal, string> = {
  unknown_token: "Incorrect access token provided. Connect the instance again.",
  not_access_token: "This is not an access token. Send the access_token from /oauth/token, not the refresh token.",
  expired: "The access token has expired. Get a new one from /oauth/token with the refresh token.",
  revoked: "This connection was revoked. Connect the instance again.",
};

/**
 * A provider credential or session token the AI endpoints cannot use: 401 with a code the
 * holder's client acts on (`session_expired`: fetch a new one from POST /api/session;
 * `credential_expired`: from POST /api/provisioning/token).
 */
function credentialInvalid(r: { kind: "provider_credential" | "session_token"; why: "unknown" | "expired" | "revoked" }): OpenAiRefusal {
  const session = r.kind === "session_token";
  const refresh = session ? "Get a new one from POST /api/session." : "Get a new one from POST /api/provisioning/token.";
  const what = session ? "session token" : "provider credential";
  const message = r.why === "expired"
    ? `The ${what} has expired. ${refresh}`
    : r.why === "revoked"
      ? `The ${what} was revoked. ${refresh}`
      : `Incorrect ${what} provided. ${refresh}`;
  const code = r.why === "unknown" ? "invalid_api_key" : `${session ? "session" : "credential"}_${r.why}`;
  return { status: 401, error: { message, type: "invalid_request_error", code } };
}

type Describe = { [R in RefusalReason]: (r: Extract<Refusal, { reason: R }>, now: number) => OpenAiRefusal };

export const REFUSALS: Describe = {
  unknown_key: () => invalidKey("Incorrect API key provided. Create a key in the Poindexter dashboard."),
  key_revoked: (r) => invalidKey(`The API key ${r.prefix}... has been revoked or has expired.`),
  // The anomaly policy suspended the key (convex/ops/anomalies.ts); support can restore it.
  key_suspended: (r) => ({
    status: 403,
    error: {
      message: `The API key ${r.prefix}... is suspended because of unusual activity. Contact Poindexter support to restore it, or create a new key in the dashboard.`,
      type: "permission_error",
      code: "key_suspended",
    },
  }),
  account_missing: () => invalidKey("This API key's account no longer exists."),
  token_invalid: (r) => invalidKey(TOKEN_MESSAGES[r.why]),
  insufficient_scope: (r) => ({
    status: 403,
    error: {
      message: `This access token was not granted the '${r.scope}' scope. Connect the instance again and allow '${r.scope}', or use an API key.`,
      type: "permission_error",
      code: "insufficient_scope",
    },
  }),
  credential_invalid: (r) => credentialInvalid(r),
  credential_scope: (r) => ({
    status: 403,
    error: {
      message: `This credential is scoped to ${r.provider} (${r.scopes.join(", ")}); it cannot call '${r.model}' here. Get a credential for that model's provider and endpoint from POST /api/provisioning/token.`,
      type: "permission_error",
      param: "model",
      code: "insufficient_scope",
    },
  }),
  account_inactive: (r) => ({
    status: 403,
    error: { message: INACTIVE_MESSAGES[r.state], type: "permission_error", code: "account_inactive" },
  }),
  model_not_found: (r) => ({
    status: 404,
    error: {
      message: `The model '${r.model}' does not exist or is not available through Poindexter.`,
      type: "invalid_request_error",
      param: "model",
      code: "model_not_found",
    },
  }),
  model_not_supported: (r) => ({
    status: 400,
    error: {
      message: `The model '${r.model}' cannot be used with this endpoint.`,
      type: "invalid_request_error",
      param: "model",
      code: "model_not_supported",
    },
  }),
  model_not_in_plan: (r) => ({
    status: 403,
    error: {
      message: `Your ${getPlan(r.plan).name} plan does not include '${r.model}'. Upgrade in the Poindexter dashboard.`,
      type: "permission_error",
      param: "model",
      code: "model_not_in_plan",
    },
  }),
  request_too_large: (r) => {
    const plan = getPlan(r.plan);
    return {
      status: 429,
      shouldRetry: false,
      error: {
        message: `This request may use up to ${r.holdTokens} tokens, more than your ${plan.name} plan's ${plan.limits.tokensPerMinute} tokens per minute. Shorten the input or lower max_tokens.`,
        type: "tokens",
        code: "request_too_large",
      },
    };
  },
  concurrency_limit: (r) => {
    const plan = getPlan(r.plan);
    return {
      status: 429,
      retryAfterSeconds: 1,
      error: {
        message: `Your ${plan.name} plan allows ${plan.limits.concurrentRequests} requests at a time. Wait for one to finish.`,
        type: "requests",
        code: "concurrency_limit_exceeded",
      },
    };
  },
  quota_exhausted: (r, now) => {
    const plan = getPlan(r.plan);
    const need = `(${r.remainingTokens} left, this request needs up to ${r.holdTokens})`;
    return {
      status: 429,
      retryAfterSeconds: Math.max(1, Math.ceil((r.resetsAt - now) / 1000)),
      shouldRetry: false,
      error: {
        message: plan.overage === null
          ? `Your ${plan.name} plan's ${plan.hardCapTokens} tokens are used up ${need}. Choose a plan in the Poindexter dashboard.`
          : `This month's cap of ${plan.hardCapTokens} tokens is reached ${need}. Contact support to raise it.`,
        type: "insufficient_quota",
        code: "insufficient_quota",
      },
    };
  },
  rate_limited: (r) => {
    const plan = getPlan(r.plan);
    return {
      status: 429,
      retryAfterSeconds: Math.max(1, Math.ceil(r.retryAfterMs / 1000)),
      error: {
        message: r.limit === "tokens"
          ? `Rate limit reached: ${plan.limits.tokensPerMinute} tokens per minute on the ${plan.name} plan.`
          : `Rate limit reached: ${plan.limits.requestsPerMinute} requests per minute on the ${plan.name} plan.`,
        type: r.limit,
        code: "rate_limit_exceeded",
      },
    };
  },
};

export function describeRefusal(refusal: Refusal, now: number): OpenAiRefusal {
  return (REFUSALS[refusal.reason] as (r: Refusal, now: number) => OpenAiRefusal)(refusal, now);
}

/** x-ratelimit-* headers from the balance's bucket levels, as OpenAI sends them. */
export function rateHeaders(rate: RateSnapshot): Record<string, string> {
  // Token buckets refill linearly over a minute: the time until full is the used share of it.
  const refill = (limit: number, remaining: number) =>
    `${limit > 0 ? Math.ceil(((limit - Math.min(limit, remaining)) / limit) * 60) : 0}s`;
  return {
    "x-ratelimit-limit-requests": String(rate.limitRequests),
    "x-ratelimit-remaining-requests": String(rate.remainingRequests),
    "x-ratelimit-reset-requests": refill(rate.limitRequests, rate.remainingRequests),
    "x-ratelimit-limit-tokens": String(rate.limitTokens),
    "x-ratelimit-remaining-tokens": String(rate.remainingTokens),
    "x-ratelimit-reset-tokens": refill(rate.limitTokens, rate.remainingTokens),
  };
}

/** The refusal as an HTTP response, with retry-after, x-should-retry and rate headers. */
export function refusalResponse(
  refusal: Refusal,
  opts: { headers?: Record<string, string>; rate?: RateSnapshot; now?: number } = {},
): Response {
  const r = describeRefusal(refusal, opts.now ?? Date.now());
  const headers: Record<string, string> = { ...opts.headers };
  if (r.retryAfterSeconds !== undefined) headers["retry-after"] = String(r.retryAfterSeconds);
  // The OpenAI SDK retries 429s unless told not to; a spent quota will not recover in seconds.
  if (r.shouldRetry === false) headers["x-should-retry"] = "false";
  if (opts.rate) Object.assign(headers, rateHeaders(opts.rate));
  if (r.retryAfterSeconds !== undefined && opts.rate) {
    headers[r.error.type === "tokens" ? "x-ratelimit-reset-tokens" : "x-ratelimit-reset-requests"] =
      `${r.retryAfterSeconds}s`;
  }
  return errorResponse(r.status, r.error, headers);
}

import { describe, expect, it } from "vitest";
import { PLANS } from "../model/plans";
import type { Refusal } from "../model/quota/admission";
import { describeRefusal, REFUSALS, refusalResponse } from "./refusals";

const NOW = Date.UTC(2026, 10, 30, 23, 59, 0);

describe("refusals in OpenAI's words", () => {
  it("give every reason the status, type and code OpenAI's clients branch on", () => {
    const cases: Array<[Refusal, number, string, string]> = [
      [{ reason: "unknown_key" }, 401, "invalid_request_error", "invalid_api_key"],
      [{ reason: "key_revoked", prefix: "pk_live_AbCd1234" }, 401, "invalid_request_error", "invalid_api_key"],
      [{ reason: "key_suspended", prefix: "pk_live_AbCd1234" }, 403, "permission_error", "key_suspended"],
      [{ reason: "account_missing" }, 401, "invalid_request_error", "invalid_api_key"],
      [{ reason: "token_invalid", why: "revoked" }, 401, "invalid_request_error", "invalid_api_key"],
      [{ reason: "insufficient_scope", scope: "ai" }, 403, "permission_error", "insufficient_scope"],
      [{ reason: "credential_invalid", kind: "session_token", why: "expired" }, 401, "invalid_request_error", "session_expired"],
      [{ reason: "credential_scope", provider: "openai", scopes: ["chat"], model: "claude-haiku-4-5" }, 403, "permission_error", "insufficient_scope"],
      [{ reason: "account_inactive", state: "suspended" }, 403, "permission_error", "account_inactive"],
      [{ reason: "model_not_found", model: "gpt-9" }, 404, "invalid_request_error", "model_not_found"],
      [{ reason: "model_not_supported", model: "tts-1" }, 400, "invalid_request_error", "model_not_supported"],
      [{ reason: "model_not_in_plan", model: "gpt-4o", plan: "trial" }, 403, "permission_error", "model_not_in_plan"],
      [{ reason: "request_too_large", plan: "trial", holdTokens: 50_000 }, 429, "tokens", "request_too_large"],
      [{ reason: "concurrency_limit", plan: "trial" }, 429, "requests", "concurrency_limit_exceeded"],
      [{ reason: "quota_exhausted", plan: "trial", holdTokens: 9, remainingTokens: 3, resetsAt: NOW + 60_000 }, 429, "insufficient_quota", "insufficient_quota"],
      [{ reason: "rate_limited", plan: "basic", limit: "tokens", retryAfterMs: 1500 }, 429, "tokens", "rate_limit_exceeded"],
      [{ reason: "rate_limited", plan: "basic", limit: "requests", retryAfterMs: 10 }, 429, "requests", "rate_limit_exceeded"],
    ];
    for (const [refusal, status, type, code] of cases) {
      expect(describeRefusal(refusal, NOW), refusal.reason).toMatchObject({ status, error: { type, code } });
    }
    // Every reason of the union has a row (the table's type also enforces it).
    expect(new Set(cases.map(([r]) => r.reason))).toEqual(new Set(Object.keys(REFUSALS)));
  });

  it("say what happened and what to do, with the plan's own figures", () => {
    expect(describeRefusal({ reason: "key_revoked", prefix: "pk_live_AbCd1234" }, NOW).error.message)
      .toBe("The API key pk_live_AbCd1234... has been revoked or has expired.");
    expect(describeRefusal({ reason: "account_inactive", state: "canceled" }, NOW).error.message).toMatch(/Choose a plan/);
    expect(describeRefusal({ reason: "model_not_in_plan", model: "gpt-4o", plan: "trial" }, NOW).error)
      .toMatchObject({ param: "model", message: "Your Trial plan does not include 'gpt-4o'. Upgrade in the Poindexter dashboard." });
    expect(describeRefusal({ reason: "concurrency_limit", plan: "pro" }, NOW).error.message)
      .toBe(`Your Pro plan allows ${PLANS.pro.limits.concurrentRequests} requests at a time. Wait for one to finish.`);
    expect(describeRefusal({ reason: "quota_exhausted", plan: "trial", holdTokens: 9, remainingTokens: 3, resetsAt: NOW }, NOW).error.message)
      .toMatch(/Choose a plan/);
    expect(describeRefusal({ reason: "quota_exhausted", plan: "basic", holdTokens: 9, remainingTokens: 3, resetsAt: NOW }, NOW).error.message)
      .toMatch(/Contact support to raise it/);
  });

  it("tell the SDK when to retry and when not to", async () => {
    const spent = refusalResponse(
      { reason: "quota_exhausted", plan: "trial", holdTokens: 9, remainingTokens: 3, resetsAt: NOW + 60_000 },
      { now: NOW, headers: { "x-request-id": "req_1" } },
    );
    expect(spent.status).toBe(429);
    expect(spent.headers.get("retry-after")).toBe("60");
    expect(spent.headers.get("x-should-retry")).toBe("false");
    expect(spent.headers.get("x-request-id")).toBe("req_1");
    expect(await spent.json()).toMatchObject({ error: { code: "insufficient_quota", param: null } });

    const rate = { limitRequests: 120, remainingRequests: 0, limitTokens: 400_000, remainingTokens: 1000 };
    const limited = refusalResponse({ reason: "rate_limited", plan: "basic", limit: "requests", retryAfterMs: 1500 }, { rate });
    expect(limited.headers.get("retry-after")).toBe("2");
    expect(limited.headers.get("x-should-retry")).toBeNull();
    expect(limited.headers.get("x-ratelimit-remaining-requests")).toBe("0");
    expect(limited.headers.get("x-ratelimit-reset-requests")).toBe("2s");
  });
});

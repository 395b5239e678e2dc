// Admission for a metered request, as reasons rather than HTTP: the ledger decides WHETHER a
// request may run and returns a Refusal naming why not; the proxy decides how to say it
// (convex/proxy/refusals.ts maps each reason to OpenAI's status, type, code and message).
// The checks here need no database: account state, model (priced, right endpoint, in the
// plan) and size against the plan's tokens per minute. Pure.
import type { AccountState } from "../accounts/accountState";
import { capabilities } from "../accounts/accountState";
import type { Scope } from "../oauth/clients";
import type { AccessRefusal } from "../oauth/lifecycle";
import { getPlan, planAllowsModel, type PlanId } from "../plans";
import { isPriced, priceOf } from "../pricing";
import { effectiveMaxOutput, holdTokens } from "./holds";

export type UsageKind = "chat" | "embedding" | "speech" | "completion";

/** Why a key could not be used: the same reasons for every key-authenticated endpoint. */
export type KeyRefusal =
  | { reason: "unknown_key" }
  | { reason: "key_revoked"; prefix: string }
  | { reason: "key_suspended"; prefix: string }
  | { reason: "account_missing" };

/**
 * Why an OAuth access token (`pdx_at_`) could not be used for this endpoint: the token or its
 * grant is unknown, expired or revoked (401, like a bad key), or the grant lacks the scope (403).
 */
export type TokenRefusal =
  | { reason: "token_invalid"; why: AccessRefusal }
  | { reason: "insufficient_scope"; scope: Scope };

/**
 * Why a provider credential (`pdx_pc_`) or browser session token (`pdx_st_`) could not be used
 * (model/credentials/lifecycle.ts): unknown, expired or revoked is a 401 telling the holder to
 * fetch a new one; a credential scoped to another provider or endpoint is a 403.
 */
export type CredentialRefusal =
  | { reason: "credential_invalid"; kind: "provider_credential" | "session_token"; why: "unknown" | "expired" | "revoked" }
  | { reason: "credential_scope"; provider: string; scopes: string[]; model: string };

/** Why the Bearer secret (an API key, an access token, a credential or a session token) could not be used. */
export type CallerRefusal = KeyRefusal | TokenRefusal | CredentialRefusal;

export type Refusal =
  | CallerRefusal
  | { reason: "account_inactive"; state: AccountState }
  | { reason: "model_not_found"; model: string }
  | { reason: "model_not_supported"; model: string }
  | { reason: "model_not_in_plan"; model: string; plan: PlanId }
  | { reason: "request_too_large"; plan: PlanId; holdTokens: number }
  | { reason: "concurrency_limit"; plan: PlanId }
  | { reason: "quota_exhausted"; plan: PlanId; holdTokens: number; remainingTokens: number; resetsAt: number }
  | { reason: "rate_limited"; plan: PlanId; limit: "requests" | "tokens"; retryAfterMs: number };

export type RefusalReason = Refusal["reason"];

export interface RequestShape {
  kind: UsageKind;
  model: string;
  /** Upper bound of the provider's prompt count (0 for speech). */
  promptTokens: number;
  /** max_completion_tokens / max_tokens as sent, or null (chat only). */
  requestedMaxOutput: number | null;
  choices: number;
  /** Characters billed for speech. */
  characters: number;
}

export type Sized = { ok: true; holdTokens: number; maxOutputTokens: number } | { ok: false; refusal: Refusal };

/**
 * Everything decidable before reading the ledger: may this account use the proxy, is the
 * model priced, served by this endpoint and in the plan, and how large a hold the request
 * needs (refused outright when no minute of the plan's token budget could ever hold it).
 */
export function sizeRequest(account: { state: AccountState; plan: PlanId }, req: RequestShape): Sized {
  const refuse = (refusal: Refusal): Sized => ({ ok: false, refusal });
  if (!capabilities(account.state).useProxy) return refuse({ reason: "account_inactive", state: account.state });
  if (!isPriced(req.model)) return refuse({ reason: "model_not_found", model: req.model });
  const expectedKind = req.kind === "completion" ? "chat" : req.kind;
  if (priceOf(req.model).kind !== expectedKind) return refuse({ reason: "model_not_supported", model: req.model });
  const plan = getPlan(account.plan);
  if (!planAllowsModel(plan.id, req.model)) {
    return refuse({ reason: "model_not_in_plan", model: req.model, plan: plan.id });
  }
  const maxOutputTokens = req.kind === "chat" || req.kind === "completion"
    ? effectiveMaxOutput(req.requestedMaxOutput, plan)
    : 0;
  const hold = req.kind === "speech" ? req.characters : holdTokens(req.promptTokens, maxOutputTokens, req.choices);
  if (hold > plan.limits.tokensPerMinute) return refuse({ reason: "request_too_large", plan: plan.id, holdTokens: hold });
  return { ok: true, holdTokens: hold, maxOutputTokens };
}

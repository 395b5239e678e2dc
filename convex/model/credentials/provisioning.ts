// The request rules of POST /api/provisioning/token: the body (zod) and the spec's optional
// account headers (`x-account-id`, `x-plan-tier`, `x-plan-status`), which a client sends to say
// which account state it believes it is acting on. A header that cannot be a valid value is a
// 400; one that does not match the signed-in account is a 409, so a client with a stale view of
// its plan learns it before it holds a credential. Pure.
import { z } from "zod";
import type { AccountState } from "../accounts/accountState";
import { PLANS, type PlanId } from "../plans";
import { PROVIDER_IDS } from "../pricing";

export const tokenRequestSchema = z.object({
  provider: z.enum(PROVIDER_IDS as unknown as [string, ...string[]], {
    error: () => `provider must be one of ${PROVIDER_IDS.join(", ")}.`,
  }),
  scopes: z.array(z.string().min(1).max(32)).max(8).optional(),
}).strict();

export type TokenRequest = z.infer<typeof tokenRequestSchema>;

/** The body, or the message saying what is wrong with it. */
export function parseTokenRequest(body: unknown): { ok: true; value: TokenRequest } | { ok: false; message: string } {
  const parsed = tokenRequestSchema.safeParse(body);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issue = parsed.error.issues[0];
  const where = issue.path.length > 0 ? `'${issue.path.join(".")}': ` : "";
  return { ok: false, message: `${where}${issue.message}` };
}

const ACCOUNT_STATES: readonly AccountState[] = ["pending", "trial", "active", "past_due", "suspended", "canceled"];

export interface AccountExpectations {
  accountId?: string;
  planTier?: string;
  planStatus?: string;
}

export function expectationsFrom(headers: Headers): AccountExpectations {
  const read = (name: string) => headers.get(name)?.trim() || undefined;
  return { accountId: read("x-account-id"), planTier: read("x-plan-tier"), planStatus: read("x-plan-status") };
}

export type ExpectationFailure = { status: 400 | 409; code: string; message: string };

/** Malformed values: decidable without the account. */
export function malformedExpectation(e: AccountExpectations): ExpectationFailure | null {
  if (e.planTier !== undefined && !(e.planTier in PLANS)) {
    return { status: 400, code: "invalid_plan_tier", message: `x-plan-tier must be one of ${Object.keys(PLANS).join(", ")}.` };
  }
  if (e.planStatus !== undefined && !(ACCOUNT_STATES as readonly string[]).includes(e.planStatus)) {
    return { status: 400, code: "invalid_plan_status", message: `x-plan-status must be one of ${ACCOUNT_STATES.join(", ")}.` };
  }
  if (e.accountId !== undefined && e.accountId.length > 64) {
    return { status: 400, code: "invalid_account_id", message: "x-account-id is too long to be an account id." };
  }
  return null;
}

/** Headers that name another account or another plan state than the signed-in account's. */
export function mismatchedExpectation(e: AccountExpectations, account: { id: string; plan: PlanId; state: AccountState }): ExpectationFailure | null {
  if (e.accountId !== undefined && e.accountId !== account.id) {
    return { status: 409, code: "account_mismatch", message: "x-account-id names another account than the one you are signed in as. Sign in as that account, or drop the header." };
  }
  if (e.planTier !== undefined && e.planTier !== account.plan) {
    return { status: 409, code: "plan_tier_mismatch", message: `Your account's plan is ${account.plan}, not ${e.planTier}. Reload your account and retry.` };
  }
  if (e.planStatus !== undefined && e.planStatus !== account.state) {
    return { status: 409, code: "plan_status_mismatch", message: `Your account is ${account.state}, not ${e.planStatus}. Reload your account and retry.` };
  }
  return null;
}

// Key authentication for endpoints that call no provider (/v1/models, the Dex API): the
// caller's account, or the reason the key cannot be used. Metered requests authenticate
// inside quota.ledger.begin instead, in the same transaction as their hold.
import { v } from "convex/values";
import type { MutationCtx } from "../_generated/server";
import { internalMutation } from "../functions";
import { authenticateKeyHash } from "../lib/apiKeys";
import schema from "../schema";
import { refusalValidator } from "../schema/validators";

const users = schema.tables.users.validator.fields;

const callerValidator = v.union(
  v.object({
    ok: v.literal(true),
    userId: v.id("users"),
    keyId: v.id("apiKeys"),
    plan: users.plan,
    state: users.state,
  }),
  v.object({ ok: v.literal(false), refusal: refusalValidator }),
);

async function authenticateHandler(ctx: MutationCtx, { hash, ip }: { hash: string; ip?: string }) {
  const auth = await authenticateKeyHash(ctx, hash, ip, Date.now());
  if (!auth.ok) {
    const { ok: _ok, ...refusal } = auth;
    return { ok: false as const, refusal };
  }
  return { ok: true as const, userId: auth.user._id, keyId: auth.key._id, plan: auth.user.plan, state: auth.user.state };
}

export const authenticate = internalMutation({
  args: { hash: v.string(), ip: v.optional(v.string()) },
  returns: callerValidator,
  handler: authenticateHandler,
});

// Self-service signup, the first thing the SPA calls after every sign-in (dev sign-in or
// Clerk). One mutation: an existing account is refreshed and returned; a new one is validated
// (address, throwaway domains, per-mailbox, per-IP and global limits), then created as a trial
// with its first API key and its onboarding emails queued, all in one transaction, so a
// proxied request made right after it succeeds. A refusal is returned, not thrown, so the
// attempt's record and the pending account that shows the reason are kept.
import type { UserIdentity } from "convex/server";
import { v } from "convex/values";
import type { Doc, Id } from "../_generated/dataModel";
import { env, type MutationCtx } from "../_generated/server";
import { devAuthEnv } from "../devAuth/env";
import { identityMutation } from "../functions";
import {
  createAccount,
  startPendingTrial,
  unclaimedTokenIdentifier,
  userByTokenIdentifier,
  userFromIdentity,
} from "../lib/accounts";
import { createdKeyValidator, createKeyFor } from "../lib/apiKeys";
import { type Actor, audit } from "../lib/audit";
import { queueOnboardingEmails } from "../lib/emailOutbox";
import { normalizeEmail } from "../model/accounts/email";
import { isDevIdentity } from "../model/auth/devIssuer";
import { checkSignupEmail, SIGNUP_REFUSAL_MESSAGES, type SignupRefusalReason } from "../model/signup/policy";
import { signupRefusalReasonValidator } from "../schema/validators";
import { hashClientIp, takeSignupSlot } from "./limits";

// Dev tokens carry the role chosen on the dev sign-in screen. Only the dev issuer is trusted
// for that claim; Clerk users get roles from an admin.
function devRoleClaim(identity: UserIdentity): Doc<"users">["role"] | undefined {
  if (!isDevIdentity(identity, devAuthEnv())) return undefined;
  const role = identity.role;
  return role === "user" || role === "support" || role === "admin" ? role : undefined;
}

const ensureResult = v.union(
  v.object({ status: v.literal("existing"), userId: v.id("users") }),
  v.object({ status: v.literal("created"), userId: v.id("users"), firstKey: createdKeyValidator }),
  v.object({ status: v.literal("refused"), userId: v.id("users"), reason: signupRefusalReasonValidator, message: v.string() }),
);
type EnsureResult = typeof ensureResult.type;

async function ensureHandler(ctx: MutationCtx & { identity: UserIdentity }): Promise<EnsureResult> {
  const { identity } = ctx;
  const now = Date.now();
  const role = devRoleClaim(identity);
  const existing = await userFromIdentity(ctx, identity);
  if (existing !== null) {
    await refreshProfile(ctx, existing, identity, role, now);
    // A refused signup is tried again on each sign-in until it passes.
    if (existing.state === "pending" && existing.signupRefusal !== undefined) {
      return await signUp(ctx, identity, existing);
    }
    return { status: "existing", userId: existing._id };
  }
  const email = normalizeEmail(identity.email ?? "");
  // An account support created from the CLI before its owner signed in: claimed, not signed up,
  // but only on a verified email (Clerk sets email_verified; dev tokens are local).
  const unclaimed = email === null ? null : await userByTokenIdentifier(ctx, unclaimedTokenIdentifier(email));
  if (unclaimed !== null && (identity.emailVerified === true || isDevIdentity(identity, devAuthEnv()))) {
    await ctx.db.patch("users", unclaimed._id, {
      tokenIdentifier: identity.tokenIdentifier,
      name: identity.name ?? unclaimed.name,
      role: role ?? unclaimed.role,
      lastSeenAt: now,
    });
    await audit(ctx, { id: unclaimed._id, label: unclaimed.email }, "account.claimed", { type: "user", id: unclaimed._id });
    return { status: "existing", userId: unclaimed._id };
  }
  return await signUp(ctx, identity, null);
}

async function refreshProfile(
  ctx: MutationCtx,
  user: Doc<"users">,
  identity: UserIdentity,
  role: Doc<"users">["role"] | undefined,
  now: number,
): Promise<void> {
  const email = normalizeEmail(identity.email ?? "");
  const patch: Partial<Doc<"users">> = { lastSeenAt: now };
  if (email !== null && email !== user.email) patch.email = email;
  if (identity.name && identity.name !== user.name) patch.name = identity.name;
  if (role && role !== user.role) patch.role = role;
  await ctx.db.patch("users", user._id, patch);
}

/**
 * Validates and, when everything passes, opens the account: trial, first key, onboarding
 * mail. `pending` is the caller's earlier refused account, if any.
 */
async function signUp(
  ctx: MutationCtx & { identity: UserIdentity },
  identity: UserIdentity,
  pending: Doc<"users"> | null,
): Promise<EnsureResult> {
  const startedAt = Date.now();
  const { ip } = await ctx.meta.getRequestMetadata();
  const ipHash = ip ? await hashClientIp(ip, env.ENCRYPTION_KEY) : undefined;
  const checked = checkSignupEmail(identity.email ?? "");
  const refusal: SignupRefusalReason | null = !checked.ok
    ? checked.reason
    : await takeSignupSlot(ctx, { mailbox: checked.mailbox, ipHash, perIpPerHour: perIpLimit() });
  const email = checked.ok ? checked.email : (normalizeEmail(identity.email ?? "") ?? checked.mailbox);

  if (refusal !== null) {
    const signupRefusal = { reason: refusal, message: SIGNUP_REFUSAL_MESSAGES[refusal], at: startedAt };
    const userId = pending?._id ?? await createAccount(
      ctx,
      { tokenIdentifier: identity.tokenIdentifier, email, name: identity.name, role: devRoleClaim(identity) ?? "user" },
      "self",
      signupRefusal,
    );
    if (pending !== null) await ctx.db.patch("users", pending._id, { signupRefusal });
    await ctx.db.insert("signupAttempts", { mailbox: checked.mailbox, ipHash, outcome: "refused", reason: refusal, userId, at: startedAt });
    await audit(ctx, { id: userId, label: email }, "signup.refused", { type: "user", id: userId }, signupRefusal.message, { reason: refusal });
    return { status: "refused", userId, reason: refusal, message: signupRefusal.message };
  }

  let userId: Id<"users">;
  if (pending === null) {
    userId = await createAccount(
      ctx,
      { tokenIdentifier: identity.tokenIdentifier, email, name: identity.name, role: devRoleClaim(identity) ?? "user" },
      "self",
    );
  } else {
    userId = pending._id;
    await startPendingTrial(ctx, pending, { id: userId, label: email });
  }
  const user = (await ctx.db.get("users", userId))!;
  const actor: Actor = { id: userId, label: email };
  const firstKey = await createKeyFor(ctx, user, { name: "First key", environment: "live", createdBy: "signup", actorLabel: email });
  await queueOnboardingEmails(ctx, user);
  await ctx.db.insert("signupAttempts", { mailbox: checked.mailbox, ipHash, outcome: "created", userId, at: startedAt });
  await audit(ctx, actor, "signup.completed", { type: "user", id: userId }, undefined, {
    keyPrefix: firstKey.prefix,
    durationMs: Date.now() - startedAt,
  });
  return { status: "created", userId, firstKey };
}

/** The per-IP hourly limit: SIGNUP_IP_LIMIT_PER_HOUR overrides the plan's 10 (test stacks). */
function perIpLimit(): number | undefined {
  const raw = env.SIGNUP_IP_LIMIT_PER_HOUR;
  const n = raw === undefined ? NaN : Number(raw);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/** Called by the SPA right after every sign-in. */
export const ensure = identityMutation({ args: {}, returns: ensureResult, handler: ensureHandler });

// Every function the admin CLI (scripts/cli.ts) calls. Internal: reachable only with the
// deployment's admin key, never from a browser. Changes are audited with the actor "cli".
import { v } from "convex/values";
import type { MutationCtx } from "./_generated/server";
import { internalMutation, internalQuery } from "./functions";
import {
  createAccount as createAccountRow,
  changeRole,
  isClaimed,
  normalizeEmail,
  overridePlan,
  requireUserByEmail,
  unclaimedTokenIdentifier,
  userByEmail,
} from "./lib/accounts";
import { createdKeyValidator, createKeyFor, keyEnvironmentValidator } from "./lib/apiKeys";
import { CLI_ACTOR } from "./lib/audit";
import { fail } from "./lib/errors";
import { project } from "./model/rows";
import schema from "./schema";
import { planValidator, roleValidator } from "./schema/validators";
import { identityStepNameValidator } from "./schema/identity";
import { identitiesOf } from "./identity/lifecycle";
import { forceDeprovision, provisionByHand, rerunStep } from "./identity/manage";
import { supportIdentityOf, supportIdentityValidator } from "./identity/views";

const createAccountArgs = { email: v.string(), plan: v.optional(planValidator), role: v.optional(roleValidator) };

async function createAccountHandler(
  ctx: MutationCtx,
  args: { email: string; plan?: typeof planValidator.type; role?: typeof roleValidator.type },
) {
  const email = normalizeEmail(args.email);
  if ((await userByEmail(ctx, email)) !== null) fail("CONFLICT", `An account with the email ${email} already exists.`);
  // Claimed by its owner at first sign-in with this (verified) email.
  const userId = await createAccountRow(
    ctx,
    { tokenIdentifier: unclaimedTokenIdentifier(email), email, role: args.role ?? "user" },
    CLI_ACTOR,
  );
  if (args.plan && args.plan !== "trial") {
    await overridePlan(ctx, (await ctx.db.get("users", userId))!, args.plan, CLI_ACTOR, "created from the CLI");
  }
  return userId;
}

export const createAccount = internalMutation({ args: createAccountArgs, returns: v.id("users"), handler: createAccountHandler });

const user = schema.tables.users.validator.fields;
export const accountReportValidator = v.object({
  id: v.id("users"),
  email: user.email,
  name: v.union(v.string(), v.null()),
  role: user.role,
  state: user.state,
  plan: user.plan,
  trialEndsAt: v.union(v.number(), v.null()),
  claimed: v.boolean(),
  keys: v.array(v.object({
    id: v.id("apiKeys"),
    name: v.string(),
    prefix: v.string(),
    createdAt: v.number(),
    lastUsedAt: v.union(v.number(), v.null()),
    revokedAt: v.union(v.number(), v.null()),
  })),
  audit: v.array(v.object({ at: v.number(), actor: v.string(), action: v.string(), reason: v.union(v.string(), v.null()) })),
});

export const showAccount = internalQuery({
  args: { email: v.string() },
  returns: accountReportValidator,
  handler: async (ctx, { email }) => {
    const account = await requireUserByEmail(ctx, email);
    const keys = await ctx.db
      .query("apiKeys")
      .withIndex("by_userId", (q) => q.eq("userId", account._id))
      .order("desc")
      .take(50);
    const auditLog = await ctx.db
      .query("auditLogs")
      .withIndex("by_targetType_and_targetId", (q) => q.eq("targetType", "user").eq("targetId", account._id))
      .order("desc")
      .take(20);
    return {
      id: account._id,
      ...project(account, ["email", "role", "state", "plan"], ["name", "trialEndsAt"]),
      claimed: isClaimed(account),
      keys: keys.map((k) => ({ id: k._id, ...project(k, ["name", "prefix", "createdAt"], ["lastUsedAt", "revokedAt"]) })),
      audit: auditLog.map((a) => ({ at: a.at, actor: a.actorLabel, action: a.action, reason: a.reason ?? null })),
    };
  },
});

export const setAccountRole = internalMutation({
  args: { email: v.string(), role: roleValidator, reason: v.optional(v.string()) },
  returns: v.null(),
  handler: async (ctx, { email, role, reason }) => {
    await changeRole(ctx, await requireUserByEmail(ctx, email), role, CLI_ACTOR, reason ?? "set from the CLI");
    return null;
  },
});

export const setAccountPlan = internalMutation({
  args: { email: v.string(), plan: planValidator, reason: v.string() },
  returns: v.object({ plan: planValidator, state: user.state }),
  handler: async (ctx, { email, plan, reason }) => {
    const change = await overridePlan(ctx, await requireUserByEmail(ctx, email), plan, CLI_ACTOR, reason);
    return { plan: change.plan, state: change.state };
  },
});

/** A key for an existing account, by email; the secret is printed once by the CLI. */
export const createApiKey = internalMutation({
  args: { email: v.string(), name: v.optional(v.string()), environment: v.optional(keyEnvironmentValidator) },
  returns: createdKeyValidator,
  handler: async (ctx, args) =>
    await createKeyFor(ctx, await requireUserByEmail(ctx, args.email), {
      name: args.name ?? "CLI key",
      environment: args.environment ?? "live",
      createdBy: "cli",
      actorLabel: "cli",
    }),
});

// ---- identity (identity/manage.ts: the same actions as the admin console's identity panel) ----

export const showIdentity = internalQuery({
  args: { email: v.string() },
  returns: v.array(supportIdentityValidator),
  handler: async (ctx, { email }) => {
    const user = await requireUserByEmail(ctx, email);
    return await Promise.all((await identitiesOf(ctx, user._id)).map((row) => supportIdentityOf(ctx, row)));
  },
});

export const rerunIdentityStep = internalMutation({
  args: { email: v.string(), step: identityStepNameValidator, reason: v.string() },
  returns: v.id("identities"),
  handler: async (ctx, { email, step, reason }) => await rerunStep(ctx, await requireUserByEmail(ctx, email), step, CLI_ACTOR, reason),
});

export const provisionIdentity = internalMutation({
  args: { email: v.string(), reason: v.string() },
  returns: v.id("identities"),
  handler: async (ctx, { email, reason }) => await provisionByHand(ctx, await requireUserByEmail(ctx, email), CLI_ACTOR, reason),
});

export const deprovisionIdentity = internalMutation({
  args: { email: v.string(), reason: v.string() },
  returns: v.id("identities"),
  handler: async (ctx, { email, reason }) => await forceDeprovision(ctx, await requireUserByEmail(ctx, email), CLI_ACTOR, reason),
});

// Which master provider key new requests use (model/credentials/masterKeys.ts): support's
// choice per provider, audit-logged with a reason, falling back to the env's P_ACTIVE_KEY_ID.
// Only ids are ever read, stored or returned; key values stay in env.
import { v } from "convex/values";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import { internalMutation, internalQuery, supportMutation, supportQuery } from "../functions";
import { type Actor, actorOf, audit, CLI_ACTOR } from "../lib/audit";
import { fail } from "../lib/errors";
import { describeKeyring } from "../model/credentials/masterKeys";
import { PROVIDER_IDS, type ProviderId } from "../model/pricing";
import { keyringOf } from "../providers/ai/masterKeys";
import { credentialProviderValidator } from "../schema/credentials";

async function settingOf(ctx: QueryCtx, provider: ProviderId) {
  return await ctx.db.query("masterKeySettings").withIndex("by_provider", (q) => q.eq("provider", provider)).unique();
}

/** Support's chosen key id for the provider, or null (the env decides). */
export const chosenId = internalQuery({
  args: { provider: credentialProviderValidator },
  returns: v.union(v.string(), v.null()),
  handler: async (ctx, { provider }) => (await settingOf(ctx, provider))?.activeKeyId ?? null,
});

const keyringViewValidator = v.object({
  provider: credentialProviderValidator,
  /** Configured key ids, in env order; never values. */
  ids: v.array(v.string()),
  envActiveId: v.union(v.string(), v.null()),
  /** What new requests use now. */
  activeId: v.union(v.string(), v.null()),
  chosenId: v.union(v.string(), v.null()),
  /** Support chose an id the env no longer has: the env's active key is used instead. */
  chosenIdMissing: v.boolean(),
  /** A malformed env setting (names the variable, never a value). */
  configError: v.union(v.string(), v.null()),
  updatedAt: v.union(v.number(), v.null()),
  updatedBy: v.union(v.string(), v.null()),
});

/** Every provider's key ids and which one is active. */
export const list = supportQuery({
  args: {},
  returns: v.array(keyringViewValidator),
  handler: async (ctx) => {
    const out = [];
    for (const provider of PROVIDER_IDS) {
      const setting = await settingOf(ctx, provider);
      const chosen = setting?.activeKeyId ?? null;
      const ring = keyringOf(provider);
      const described = ring.ok
        ? describeKeyring(ring.ring, chosen)
        : { ids: [], envActiveId: null, activeId: null, chosenIdMissing: chosen !== null };
      out.push({
        provider,
        ...described,
        chosenId: chosen,
        configError: ring.ok ? null : ring.message,
        updatedAt: setting?.updatedAt ?? null,
        updatedBy: setting?.updatedBy ?? null,
      });
    }
    return out;
  },
});

async function switchKey(ctx: MutationCtx, actor: Actor, args: { provider: ProviderId; keyId: string; reason: string }) {
  const reason = args.reason.trim();
  if (reason.length < 3) fail("INVALID_ARGUMENT", "Say why the key is switched (at least 3 characters); it goes to the audit log.");
  const ring = keyringOf(args.provider);
  if (!ring.ok) fail("CONFLICT", `${ring.message} Fix the env before switching keys.`);
  if (!ring.ring.keys.some((k) => k.id === args.keyId)) {
    fail("NOT_FOUND", `No ${args.provider} key has the id '${args.keyId}'; configured: ${ring.ring.keys.map((k) => k.id).join(", ") || "none"}.`);
  }
  const now = Date.now();
  const setting = await settingOf(ctx, args.provider);
  const from = setting?.activeKeyId ?? ring.ring.envActiveId;
  if (setting) await ctx.db.patch("masterKeySettings", setting._id, { activeKeyId: args.keyId, updatedAt: now, updatedBy: actor.label });
  else await ctx.db.insert("masterKeySettings", { provider: args.provider, activeKeyId: args.keyId, updatedAt: now, updatedBy: actor.label });
  await audit(ctx, actor, "master_key.switched", { type: "provider", id: args.provider }, reason, { from, to: args.keyId });
  return null;
}

const switchArgs = { provider: credentialProviderValidator, keyId: v.string(), reason: v.string() };

/** Makes `keyId` the provider's active key for new requests; in-flight ones finish on theirs. */
export const setActive = supportMutation({
  args: switchArgs,
  returns: v.null(),
  handler: async (ctx, args) => await switchKey(ctx, actorOf(ctx.user), args),
});

/** The same from the command line (`npx convex run credentials/masterKeys:setActiveFromCli`). */
export const setActiveFromCli = internalMutation({
  args: switchArgs,
  returns: v.null(),
  handler: async (ctx, args) => await switchKey(ctx, CLI_ACTOR, args),
});

/** Drops support's choice: the env's P_ACTIVE_KEY_ID decides again. */
export const clearChoice = supportMutation({
  args: { provider: credentialProviderValidator, reason: v.string() },
  returns: v.null(),
  handler: async (ctx, { provider, reason }) => {
    if (reason.trim().length < 3) fail("INVALID_ARGUMENT", "Say why (at least 3 characters); it goes to the audit log.");
    const setting = await settingOf(ctx, provider);
    if (setting === null) return null;
    await ctx.db.delete("masterKeySettings", setting._id);
    await audit(ctx, actorOf(ctx.user), "master_key.choice_cleared", { type: "provider", id: provider }, reason.trim(), { was: setting.activeKeyId });
    return null;
  },
});

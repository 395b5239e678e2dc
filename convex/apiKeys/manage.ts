// The signed-in customer's API keys (the dashboard's Keys page). The secret appears only in
// the response that creates it.
import { v } from "convex/values";
import { userMutation, userQuery } from "../functions";
import {
  createdKeyValidator,
  createKeyFor,
  keyEnvironmentValidator,
  keySummaryValidator,
  listKeysOf,
  ownKey,
  revokeKeyFor,
} from "../lib/apiKeys";
import { audit, actorOf } from "../lib/audit";
import { fail } from "../lib/errors";
import { keyStatus, rotationGraceHours } from "../model/apiKeyStatus";
import { env, type MutationCtx } from "../_generated/server";
import type { Doc, Id } from "../_generated/dataModel";

const HOUR = 60 * 60 * 1000;

/** Newest first; the secret is never part of a listing. */
export const list = userQuery({
  args: {},
  returns: v.array(keySummaryValidator),
  handler: async (ctx) => await listKeysOf(ctx, ctx.user._id, Date.now()),
});

/** The only response that ever contains the secret. */
export const create = userMutation({
  args: { name: v.string(), environment: v.optional(keyEnvironmentValidator) },
  returns: createdKeyValidator,
  handler: async (ctx, args) =>
    await createKeyFor(ctx, ctx.user, {
      name: args.name,
      environment: args.environment ?? "live",
      createdBy: "dashboard",
      actorLabel: ctx.user.email,
    }),
});

export const revoke = userMutation({
  args: { keyId: v.id("apiKeys") },
  returns: v.null(),
  handler: async (ctx, { keyId }) => {
    await revokeKeyFor(ctx, ctx.user._id, keyId, ctx.user.email);
    return null;
  },
});

async function rotateHandler(
  ctx: MutationCtx & { user: Doc<"users"> },
  { keyId, graceHours }: { keyId: Id<"apiKeys">; graceHours?: number },
) {
  const old = await ownKey(ctx, ctx.user._id, keyId);
  const now = Date.now();
  const status = keyStatus(old, now);
  if (status !== "active") {
    fail("CONFLICT", `This key is ${status === "grace" ? "already rotated" : "revoked"}; rotate its replacement instead.`);
  }
  let hours: number;
  try {
    hours = rotationGraceHours(graceHours, env.KEY_ROTATION_GRACE_HOURS);
  } catch (e) {
    fail("INVALID_ARGUMENT", (e as Error).message);
  }
  const created = await createKeyFor(ctx, ctx.user, {
    name: old.name,
    environment: old.environment,
    createdBy: "dashboard",
    actorLabel: ctx.user.email,
  });
  const graceEndsAt = now + Math.round(hours * HOUR);
  await ctx.db.patch("apiKeys", old._id, {
    replacedByKeyId: created.keyId,
    graceEndsAt,
    ...(hours === 0 ? { revokedAt: now } : {}),
  });
  await audit(ctx, actorOf(ctx.user), "apiKey.rotated", { type: "apiKey", id: old._id }, undefined,
    { prefix: old.prefix, replacedBy: created.prefix, graceEndsAt });
  return { ...created, graceEndsAt };
}

/**
 * A new key with the same name and environment; the old key keeps working for graceHours
 * (default 24, env KEY_ROTATION_GRACE_HOURS); 0 revokes it at once.
 */
export const rotate = userMutation({
  args: { keyId: v.id("apiKeys"), graceHours: v.optional(v.number()) },
  returns: v.object({
    keyId: v.id("apiKeys"),
    secret: v.string(),
    prefix: v.string(),
    graceEndsAt: v.number(),
  }),
  handler: rotateHandler,
});

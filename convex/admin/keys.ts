// Support's actions on a customer's API keys (the account page): revoke one at once, or rotate
// it (a replacement with the same name; the old key keeps working for the grace period so the
// customer can switch). Each needs a reason and writes an audit row on the account.
import { v } from "convex/values";
import { env } from "../_generated/server";
import { supportMutation } from "../functions";
import { requireAccount } from "../lib/accounts";
import { createKeyFor, ownKey } from "../lib/apiKeys";
import { actorOf, audit } from "../lib/audit";
import { fail } from "../lib/errors";
import { keyStatus, rotationGraceHours } from "../model/apiKeyStatus";
import { requireReason } from "./reason";

const HOUR = 60 * 60 * 1000;

export const revoke = supportMutation({
  args: { userId: v.id("users"), keyId: v.id("apiKeys"), reason: v.string() },
  returns: v.null(),
  handler: async (ctx, { userId, keyId, reason }) => {
    const why = requireReason(reason);
    const account = await requireAccount(ctx, userId);
    const key = await ownKey(ctx, account._id, keyId);
    const now = Date.now();
    if (keyStatus(key, now) === "revoked") fail("CONFLICT", `The key ${key.prefix}… is already revoked.`);
    await ctx.db.patch("apiKeys", key._id, { revokedAt: now });
    await audit(ctx, actorOf(ctx.user), "apiKey.revoked_by_support", { type: "user", id: account._id }, why, {
      keyId: key._id,
      prefix: key.prefix,
    });
    return null;
  },
});

/**
 * A replacement key; the secret is returned once, to hand to the customer over a channel you
 * trust (it is never shown again). graceHours: how long the old key keeps working (default
 * KEY_ROTATION_GRACE_HOURS or 24; 0 revokes it at once, e.g. for a leaked key).
 */
export const rotate = supportMutation({
  args: { userId: v.id("users"), keyId: v.id("apiKeys"), reason: v.string(), graceHours: v.optional(v.number()) },
  returns: v.object({ keyId: v.id("apiKeys"), secret: v.string(), prefix: v.string(), graceEndsAt: v.number() }),
  handler: async (ctx, { userId, keyId, reason, graceHours }) => {
    const why = requireReason(reason);
    const account = await requireAccount(ctx, userId);
    const old = await ownKey(ctx, account._id, keyId);
    const now = Date.now();
    const status = keyStatus(old, now);
    if (status !== "active") fail("CONFLICT", `The key ${old.prefix}… is ${status === "grace" ? "already rotated" : "revoked"}; rotate its replacement instead.`);
    let hours: number;
    try {
      hours = rotationGraceHours(graceHours, env.KEY_ROTATION_GRACE_HOURS);
    } catch (e) {
      fail("INVALID_ARGUMENT", (e as Error).message);
    }
    const created = await createKeyFor(ctx, account, {
      name: old.name,
      environment: old.environment,
      createdBy: "dashboard",
      actorLabel: ctx.user.email,
    });
    const graceEndsAt = now + Math.round(hours * HOUR);
    await ctx.db.patch("apiKeys", old._id, { replacedByKeyId: created.keyId, graceEndsAt, ...(hours === 0 ? { revokedAt: now } : {}) });
    await audit(ctx, actorOf(ctx.user), "apiKey.rotated_by_support", { type: "user", id: account._id }, why, {
      keyId: old._id,
      prefix: old.prefix,
      replacedBy: created.prefix,
      graceEndsAt,
    });
    return { ...created, graceEndsAt };
  },
});

// The device authorization grant (RFC 8628) for headless instances: the instance asks for a
// code pair (routes.ts -> start), shows the user code and the /device link, and polls the token
// endpoint (-> poll) while the signed-in person enters the code on /device (lookup, decide).
import { v } from "convex/values";
import { env, type MutationCtx } from "../_generated/server";
import { internalMutation, userMutation, userQuery } from "../functions";
import { fail } from "../lib/errors";
import { SCOPE_DESCRIPTIONS } from "../model/oauth/clients";
import { connectReadiness } from "../model/oauth/consent";
import { DEVICE_CODE_TTL_MS, DEVICE_INTERVAL_SECONDS, devicePoll } from "../model/oauth/lifecycle";
import { normalizeUserCode, secretHash } from "../model/oauth/secrets";
import { oauthScopeValidator } from "../schema/oauth";
import { createGrant, issuePair, sweepExpiredDeviceCodes, touchGrant } from "./store";

/** Records a new device authorization; false when the user code is taken by a live one (the caller draws another). */
export const start = internalMutation({
  args: { deviceCodeHash: v.string(), userCodeHash: v.string(), clientId: v.string(), scopes: v.array(oauthScopeValidator) },
  returns: v.object({ ok: v.boolean(), expiresAt: v.number(), intervalSeconds: v.number() }),
  handler: async (ctx, args) => {
    const now = Date.now();
    const expiresAt = now + DEVICE_CODE_TTL_MS;
    const taken = await ctx.db.query("oauthDeviceCodes").withIndex("by_userCodeHash", (q) => q.eq("userCodeHash", args.userCodeHash)).take(5);
    if (taken.some((row) => row.expiresAt > now)) return { ok: false, expiresAt, intervalSeconds: DEVICE_INTERVAL_SECONDS };
    await ctx.db.insert("oauthDeviceCodes", { ...args, status: "pending", expiresAt, intervalSeconds: DEVICE_INTERVAL_SECONDS });
    await sweepExpiredDeviceCodes(ctx, now);
    return { ok: true, expiresAt, intervalSeconds: DEVICE_INTERVAL_SECONDS };
  },
});

const pollError = v.union(
  v.literal("authorization_pending"),
  v.literal("slow_down"),
  v.literal("expired_token"),
  v.literal("access_denied"),
  v.literal("invalid_grant"),
);

async function pollHandler(
  ctx: MutationCtx,
  args: { deviceCodeHash: string; clientId: string; accessHash: string; refreshHash: string; ip?: string },
) {
  const now = Date.now();
  const device = await ctx.db.query("oauthDeviceCodes").withIndex("by_deviceCodeHash", (q) => q.eq("deviceCodeHash", args.deviceCodeHash)).unique();
  if (device === null || device.clientId !== args.clientId) {
    return { ok: false as const, error: "invalid_grant" as const, description: "The device code is not valid for this client_id." };
  }
  const poll = devicePoll(device, now);
  switch (poll.outcome) {
    case "authorization_pending":
      await ctx.db.patch("oauthDeviceCodes", device._id, { lastPolledAt: now });
      return { ok: false as const, error: "authorization_pending" as const, description: "Waiting for the code to be entered on the device page." };
    case "slow_down":
      await ctx.db.patch("oauthDeviceCodes", device._id, { lastPolledAt: now, intervalSeconds: poll.intervalSeconds });
      return { ok: false as const, error: "slow_down" as const, description: `Polling too fast: wait ${poll.intervalSeconds} seconds between requests.` };
    case "expired_token":
      return { ok: false as const, error: "expired_token" as const, description: "The device code expired. Start again for a new code." };
    case "access_denied":
      return { ok: false as const, error: "access_denied" as const, description: "The request was declined on the device page." };
    case "consumed":
      return { ok: false as const, error: "invalid_grant" as const, description: "The device code was already exchanged for tokens." };
    case "issue":
      break;
  }
  const grant = device.grantId === undefined ? null : await ctx.db.get("oauthGrants", device.grantId);
  await ctx.db.patch("oauthDeviceCodes", device._id, { status: "consumed", lastPolledAt: now });
  if (grant === null || grant.revokedAt !== undefined) {
    return { ok: false as const, error: "access_denied" as const, description: "The connection was revoked before the instance collected it." };
  }
  await issuePair(ctx, grant, grant.scopes, args, now);
  await touchGrant(ctx, grant, args.ip, now);
  return { ok: true as const, scopes: grant.scopes };
}

export const poll = internalMutation({
  args: { deviceCodeHash: v.string(), clientId: v.string(), accessHash: v.string(), refreshHash: v.string(), ip: v.optional(v.string()) },
  returns: v.union(
    v.object({ ok: v.literal(true), scopes: v.array(oauthScopeValidator) }),
    v.object({ ok: v.literal(false), error: pollError, description: v.string() }),
  ),
  handler: pollHandler,
});

const scopeLine = v.object({ scope: oauthScopeValidator, description: v.string() });

/** What the /device page shows for a typed code. Expiry is judged by the page (queries do not read the clock). */
export const lookup = userQuery({
  args: { userCode: v.string() },
  returns: v.union(
    v.object({ status: v.literal("malformed") }),
    v.object({ status: v.literal("not_found") }),
    v.object({
      status: v.union(v.literal("pending"), v.literal("approved"), v.literal("denied"), v.literal("consumed")),
      userCode: v.string(),
      instanceId: v.string(),
      scopes: v.array(scopeLine),
      expiresAt: v.number(),
      decidedByYou: v.boolean(),
    }),
  ),
  handler: async (ctx, { userCode }) => {
    const code = normalizeUserCode(userCode);
    if (code === null) return { status: "malformed" as const };
    const userCodeHash = await secretHash(code, env.ENCRYPTION_KEY);
    const rows = await ctx.db.query("oauthDeviceCodes").withIndex("by_userCodeHash", (q) => q.eq("userCodeHash", userCodeHash)).order("desc").take(1);
    const row = rows[0];
    // Someone else's decided code is "not found" to this account: the code says nothing to them.
    if (row === undefined || (row.userId !== undefined && row.userId !== ctx.user._id)) return { status: "not_found" as const };
    return {
      status: row.status,
      userCode: code,
      instanceId: row.clientId,
      scopes: row.scopes.map((scope) => ({ scope, description: SCOPE_DESCRIPTIONS[scope] })),
      expiresAt: row.expiresAt,
      decidedByYou: row.userId === ctx.user._id,
    };
  },
});

/** Approve or decline the instance behind a user code; approving makes the grant the next poll collects. */
export const decide = userMutation({
  args: { userCode: v.string(), approve: v.boolean() },
  returns: v.object({ instanceId: v.string(), approved: v.boolean() }),
  handler: async (ctx, { userCode, approve }) => {
    const code = normalizeUserCode(userCode);
    if (code === null) fail("INVALID_ARGUMENT", "A code is 8 letters, like BCDF-GHJK: check what your instance shows.");
    const userCodeHash = await secretHash(code, env.ENCRYPTION_KEY);
    const rows = await ctx.db.query("oauthDeviceCodes").withIndex("by_userCodeHash", (q) => q.eq("userCodeHash", userCodeHash)).order("desc").take(1);
    const row = rows[0];
    const now = Date.now();
    if (row === undefined || (row.userId !== undefined && row.userId !== ctx.user._id)) {
      fail("NOT_FOUND", "No instance is waiting for this code. Check the code, or start again on the instance.");
    }
    if (row.status !== "pending") fail("CONFLICT", `This code was already ${row.status === "denied" ? "declined" : "approved"}.`);
    if (now >= row.expiresAt) fail("CONFLICT", "This code expired (codes last 10 minutes). Start again on the instance for a new one.");
    if (!approve) {
      await ctx.db.patch("oauthDeviceCodes", row._id, { status: "denied", userId: ctx.user._id });
      return { instanceId: row.clientId, approved: false };
    }
    const readiness = connectReadiness(ctx.user.state);
    if (readiness === "blocked") fail("FORBIDDEN", "Your account is suspended, so no instance can connect. Contact support.");
    if (readiness === "needs_plan") fail("FORBIDDEN", "Choose a plan on the Billing page first: instances connect to paid accounts.");
    const grantId = await createGrant(ctx, ctx.user._id, row.clientId, row.scopes, "device", now);
    await ctx.db.patch("oauthDeviceCodes", row._id, { status: "approved", userId: ctx.user._id, grantId });
    return { instanceId: row.clientId, approved: true };
  },
});

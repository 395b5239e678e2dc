// API keys: created in the dashboard, by the CLI, or by a Dex instance over /v1/api-keys.
// The secret is returned once at creation; only its SHA-256 is stored. Rotation issues a new
// key and leaves the old one working until its grace period ends, so clients can switch over.
import { requireUserByEmail } from "./accounts";
import { v } from "convex/values";
import type { Doc, Id } from "./_generated/dataModel";
import type { MutationCtx, QueryCtx } from "./_generated/server";
import { accountStateValidator, planValidator } from "./schema";
import { fail, internalMutation, internalQuery, userMutation, userQuery } from "./functions";
import {
  constantTimeEqual,
  displayPrefix,
  generateSecret,
  hashSecret,
  keyStatus,
  rotationGraceHours,
  type KeyEnvironment,
} from "./model/apiKeyTokens";

const HOUR = 60 * 60 * 1000;
/** lastUsedAt/Ip is written only when older than this: every request must not rewrite the key. */
export const LAST_USED_STALE_MS = 60 * 1000;
/** Keys a user may hold that are not revoked; protects against a runaway client minting keys. */
export const MAX_LIVE_KEYS = 50;
const DEFAULT_SCOPES = ["proxy", "usage", "keys"];

const environmentValidator = v.union(v.literal("live"), v.literal("test"));
const statusValidator = v.union(v.literal("active"), v.literal("grace"), v.literal("revoked"));

export const keySummaryValidator = v.object({
  _id: v.id("apiKeys"),
  name: v.string(),
  prefix: v.string(),
  environment: environmentValidator,
  createdAt: v.number(),
  lastUsedAt: v.optional(v.number()),
  lastUsedIp: v.optional(v.string()),
  revokedAt: v.optional(v.number()),
  graceEndsAt: v.optional(v.number()),
  status: statusValidator,
});

const createdKeyValidator = v.object({ keyId: v.id("apiKeys"), secret: v.string(), prefix: v.string() });

export type KeySummary = typeof keySummaryValidator.type;

export function summarizeKey(key: Doc<"apiKeys">, now: number): KeySummary {
  return {
    _id: key._id,
    name: key.name,
    prefix: key.prefix,
    environment: key.environment,
    createdAt: key.createdAt,
    lastUsedAt: key.lastUsedAt,
    lastUsedIp: key.lastUsedIp,
    revokedAt: key.revokedAt,
    graceEndsAt: key.graceEndsAt,
    status: keyStatus(key, now),
  };
}

function cleanName(name: string): string {
  const trimmed = name.trim();
  if (trimmed.length === 0 || trimmed.length > 64) {
    fail("INVALID_ARGUMENT", "A key name must be 1 to 64 characters long.");
  }
  return trimmed;
}

export async function listKeysOf(ctx: QueryCtx, userId: Id<"users">, now: number): Promise<KeySummary[]> {
  const keys = await ctx.db
    .query("apiKeys")
    .withIndex("by_userId", (q) => q.eq("userId", userId))
    .order("desc")
    .take(200);
  return keys.sort((a, b) => b.createdAt - a.createdAt).map((k) => summarizeKey(k, now));
}

export async function createKeyFor(
  ctx: MutationCtx,
  user: Doc<"users">,
  opts: { name: string; environment: KeyEnvironment; createdBy: Doc<"apiKeys">["createdBy"]; actorLabel: string },
): Promise<{ keyId: Id<"apiKeys">; secret: string; prefix: string }> {
  const name = cleanName(opts.name);
  const now = Date.now();
  const existing = await ctx.db
    .query("apiKeys")
    .withIndex("by_userId", (q) => q.eq("userId", user._id))
    .take(MAX_LIVE_KEYS * 4);
  if (existing.filter((k) => keyStatus(k, now) !== "revoked").length >= MAX_LIVE_KEYS) {
    fail("CONFLICT", `You already have ${MAX_LIVE_KEYS} keys; revoke one you no longer use first.`);
  }
  const secret = generateSecret(opts.environment);
  const prefix = displayPrefix(secret);
  const keyId = await ctx.db.insert("apiKeys", {
    userId: user._id,
    name,
    environment: opts.environment,
    prefix,
    hash: await hashSecret(secret),
    scopes: DEFAULT_SCOPES,
    createdAt: now,
    createdBy: opts.createdBy,
  });
  await ctx.db.insert("auditLogs", {
    actorId: user._id,
    actorLabel: opts.actorLabel,
    action: "apiKey.created",
    targetType: "apiKey",
    targetId: keyId,
    metadata: { prefix, via: opts.createdBy },
    at: now,
  });
  return { keyId, secret, prefix };
}

async function ownKey(ctx: QueryCtx, userId: Id<"users">, keyId: Id<"apiKeys">): Promise<Doc<"apiKeys">> {
  const key = await ctx.db.get(keyId);
  // Another user's key answers exactly like a missing one: ids reveal nothing.
  if (key === null || key.userId !== userId) fail("NOT_FOUND", "No such API key on your account.");
  return key;
}

export async function revokeKeyFor(
  ctx: MutationCtx,
  userId: Id<"users">,
  keyId: Id<"apiKeys">,
  actorLabel: string,
): Promise<void> {
  const key = await ownKey(ctx, userId, keyId);
  const now = Date.now();
  if (keyStatus(key, now) === "revoked") return;
  await ctx.db.patch(key._id, { revokedAt: now });
  await ctx.db.insert("auditLogs", {
    actorId: userId,
    actorLabel,
    action: "apiKey.revoked",
    targetType: "apiKey",
    targetId: key._id,
    metadata: { prefix: key.prefix },
    at: now,
  });
}

/** Newest first; the secret is never part of a listing. */
export const list = userQuery({
  args: {},
  returns: v.array(keySummaryValidator),
  handler: async (ctx) => await listKeysOf(ctx, ctx.user._id, Date.now()),
});

/** The only response that ever contains the secret. */
export const create = userMutation({
  args: { name: v.string(), environment: v.optional(environmentValidator) },
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
  handler: async (ctx, { keyId, graceHours }) => {
    const old = await ownKey(ctx, ctx.user._id, keyId);
    const now = Date.now();
    const status = keyStatus(old, now);
    if (status !== "active") {
      fail("CONFLICT", `This key is ${status === "grace" ? "already rotated" : "revoked"}; rotate its replacement instead.`);
    }
    let hours: number;
    try {
      hours = rotationGraceHours(graceHours, process.env.KEY_ROTATION_GRACE_HOURS);
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
    await ctx.db.patch(old._id, {
      replacedByKeyId: created.keyId,
      graceEndsAt,
      ...(hours === 0 ? { revokedAt: now } : {}),
    });
    await ctx.db.insert("auditLogs", {
      actorId: ctx.user._id,
      actorLabel: ctx.user.email,
      action: "apiKey.rotated",
      targetType: "apiKey",
      targetId: old._id,
      metadata: { prefix: old.prefix, replacedBy: created.prefix, graceEndsAt },
      at: now,
    });
    return { ...created, graceEndsAt };
  },
});

/** For the CLI: a key for an existing account, by email. */
export const createForEmail = internalMutation({
  args: { email: v.string(), name: v.optional(v.string()), environment: v.optional(environmentValidator) },
  returns: createdKeyValidator,
  handler: async (ctx, args) => {
    const user = await requireUserByEmail(ctx, args.email);
    return await createKeyFor(ctx, user, {
      name: args.name ?? "CLI key",
      environment: args.environment ?? "live",
      createdBy: "cli",
      actorLabel: "cli",
    });
  },
});

export type KeyAuth =
  | { ok: true; key: Doc<"apiKeys">; user: Doc<"users"> }
  | { ok: false; message: string };

/**
 * Resolves a secret's hash to its key and owner. Revoked, expired and past-grace keys fail
 * alike. lastUsedAt/Ip are written only when stale, so a busy key is not a hot document.
 */
export async function authenticateKeyHash(
  ctx: MutationCtx,
  hash: string,
  ip: string | undefined,
  now: number,
): Promise<KeyAuth> {
  const key = await ctx.db
    .query("apiKeys")
    .withIndex("by_hash", (q) => q.eq("hash", hash))
    .unique();
  // The index lookup already matched; the explicit comparison guards the invariant cheaply.
  if (key === null || !constantTimeEqual(key.hash, hash)) {
    return { ok: false, message: "Incorrect API key provided. Create a key in the Poindexter dashboard." };
  }
  const status = keyStatus(key, now);
  if (status === "revoked") {
    return { ok: false, message: `The API key ${key.prefix}... has been revoked or has expired.` };
  }
  const user = await ctx.db.get(key.userId);
  if (user === null) return { ok: false, message: "This API key's account no longer exists." };
  if (key.lastUsedAt === undefined || now - key.lastUsedAt > LAST_USED_STALE_MS) {
    await ctx.db.patch(key._id, { lastUsedAt: now, ...(ip ? { lastUsedIp: ip } : {}) });
  }
  return { ok: true, key, user };
}

/** Key authentication for Dex API routes that do not call a provider (/v1/api-keys, /v1/usage). */
export const authenticate = internalMutation({
  args: { hash: v.string(), ip: v.optional(v.string()) },
  returns: v.union(
    v.object({
      ok: v.literal(true),
      userId: v.id("users"),
      keyId: v.id("apiKeys"),
      plan: planValidator,
      state: accountStateValidator,
    }),
    v.object({ ok: v.literal(false), message: v.string() }),
  ),
  handler: async (ctx, { hash, ip }) => {
    const auth = await authenticateKeyHash(ctx, hash, ip, Date.now());
    if (!auth.ok) return auth;
    return { ok: true as const, userId: auth.user._id, keyId: auth.key._id, plan: auth.user.plan, state: auth.user.state };
  },
});

export const listForUser = internalQuery({
  args: { userId: v.id("users"), now: v.number() },
  returns: v.array(keySummaryValidator),
  handler: async (ctx, { userId, now }) => await listKeysOf(ctx, userId, now),
});

export const createForUser = internalMutation({
  args: { userId: v.id("users"), name: v.string(), environment: v.optional(environmentValidator) },
  returns: createdKeyValidator,
  handler: async (ctx, args) => {
    const user = await ctx.db.get(args.userId);
    if (user === null) fail("NOT_FOUND", "This API key's account no longer exists.");
    return await createKeyFor(ctx, user, {
      name: args.name,
      environment: args.environment ?? "live",
      createdBy: "dex",
      actorLabel: "dex",
    });
  },
});

export const revokeForUser = internalMutation({
  args: { userId: v.id("users"), keyId: v.string() },
  returns: v.null(),
  handler: async (ctx, { userId, keyId }) => {
    const id = ctx.db.normalizeId("apiKeys", keyId);
    if (id === null) fail("NOT_FOUND", "No such API key on your account.");
    await revokeKeyFor(ctx, userId, id, "dex");
    return null;
  },
});

/**
 * Rotation sweep (cron): marks keys whose grace ended as revoked so listings and indexes
 * agree with what authentication already enforces.
 */
export const sweepExpiredGrace = internalMutation({
  args: {},
  returns: v.number(),
  handler: async (ctx) => {
    const now = Date.now();
    const ended = await ctx.db
      .query("apiKeys")
      // The cron runs hourly; a two-day window catches every key whose grace just ended
      // without rereading all the ones swept long ago.
      .withIndex("by_graceEndsAt", (q) => q.gt("graceEndsAt", now - 48 * HOUR).lte("graceEndsAt", now))
      .take(500);
    let n = 0;
    for (const key of ended) {
      if (key.revokedAt === undefined) {
        await ctx.db.patch(key._id, { revokedAt: key.graceEndsAt });
        n++;
      }
    }
    return n;
  },
});

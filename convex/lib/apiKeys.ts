// API keys as the dashboard, the CLI and Dex manage them, and key authentication for every
// key-authenticated endpoint. The secret is returned once at creation; only its SHA-256 is
// stored. Rotation issues a new key and leaves the old one working until its grace ends.
import { v } from "convex/values";
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import schema from "../schema";
import { constantTimeEqual, displayPrefix, generateSecret, hashSecret, type KeyEnvironment } from "../model/apiKeySecrets";
import { keyStatus } from "../model/apiKeyStatus";
import { audit } from "./audit";
import { fail } from "./errors";

/** lastUsedAt/Ip is written only when older than this: every request must not rewrite the key. */
export const LAST_USED_STALE_MS = 60 * 1000;
/** Keys a user may hold that are not revoked; protects against a runaway client minting keys. */
export const MAX_LIVE_KEYS = 50;
/** Longest listing of a user's keys (newest first). */
const LIST_LIMIT = 200;
const DEFAULT_SCOPES = ["proxy", "usage", "keys"];

const keyFields = schema.tables.apiKeys.validator.fields;
export const keyEnvironmentValidator = keyFields.environment;

export const keySummaryValidator = v.object({
  _id: v.id("apiKeys"),
  name: keyFields.name,
  prefix: keyFields.prefix,
  environment: keyFields.environment,
  createdAt: keyFields.createdAt,
  lastUsedAt: keyFields.lastUsedAt,
  lastUsedIp: keyFields.lastUsedIp,
  revokedAt: keyFields.revokedAt,
  graceEndsAt: keyFields.graceEndsAt,
  expiresAt: keyFields.expiresAt,
  /** Set while the anomaly policy has the key suspended (ops/anomalies.ts), with why. */
  suspendedAt: keyFields.suspendedAt,
  suspendedReason: keyFields.suspendedReason,
  /** As of the query; the SPA re-derives it with model/apiKeyStatus.ts as time passes. */
  status: v.union(v.literal("active"), v.literal("grace"), v.literal("revoked")),
});
export type KeySummary = typeof keySummaryValidator.type;

export const createdKeyValidator = v.object({ keyId: v.id("apiKeys"), secret: v.string(), prefix: v.string() });
export type CreatedKey = typeof createdKeyValidator.type;

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
    expiresAt: key.expiresAt,
    suspendedAt: key.suspendedAt,
    suspendedReason: key.suspendedReason,
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

/** The user's keys, newest first (creation order is the index order within a user). */
export async function listKeysOf(ctx: QueryCtx, userId: Id<"users">, now: number): Promise<KeySummary[]> {
  const keys = await ctx.db
    .query("apiKeys")
    .withIndex("by_userId", (q) => q.eq("userId", userId))
    .order("desc")
    .take(LIST_LIMIT);
  return keys.map((k) => summarizeKey(k, now));
}

/**
 * How many of the user's keys still work, counted up to `atMost`. Reads only keys that are
 * not revoked (index on revokedAt), so any number of old revoked keys costs nothing and
 * cannot hide live ones; rotated keys past their grace are skipped as they are met.
 */
async function countLiveKeys(ctx: QueryCtx, userId: Id<"users">, now: number, atMost: number): Promise<number> {
  let live = 0;
  const unrevoked = ctx.db
    .query("apiKeys")
    .withIndex("by_userId_and_revokedAt", (q) => q.eq("userId", userId).eq("revokedAt", undefined));
  for await (const key of unrevoked) {
    if (keyStatus(key, now) !== "revoked" && ++live >= atMost) break;
  }
  return live;
}

export async function createKeyFor(
  ctx: MutationCtx,
  user: Doc<"users">,
  opts: { name: string; environment: KeyEnvironment; createdBy: Doc<"apiKeys">["createdBy"]; actorLabel: string },
): Promise<CreatedKey> {
  const name = cleanName(opts.name);
  const now = Date.now();
  if ((await countLiveKeys(ctx, user._id, now, MAX_LIVE_KEYS)) >= MAX_LIVE_KEYS) {
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
  await audit(ctx, { id: user._id, label: opts.actorLabel }, "apiKey.created", { type: "apiKey", id: keyId },
    undefined, { prefix, via: opts.createdBy });
  return { keyId, secret, prefix };
}

/** The user's own key; another user's key answers exactly like a missing one. */
export async function ownKey(ctx: QueryCtx, userId: Id<"users">, keyId: Id<"apiKeys">): Promise<Doc<"apiKeys">> {
  const key = await ctx.db.get("apiKeys", keyId);
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
  await ctx.db.patch("apiKeys", key._id, { revokedAt: now });
  await audit(ctx, { id: userId, label: actorLabel }, "apiKey.revoked", { type: "apiKey", id: key._id },
    undefined, { prefix: key.prefix });
}

export type KeyAuth =
  | { ok: true; key: Doc<"apiKeys">; user: Doc<"users"> }
  | { ok: false; reason: "unknown_key" }
  | { ok: false; reason: "key_revoked"; prefix: string }
  | { ok: false; reason: "key_suspended"; prefix: string }
  | { ok: false; reason: "account_missing" };

/**
 * Resolves a secret's hash to its key and owner. Revoked, expired and past-grace keys fail
 * alike. lastUsedAt/Ip are written only when stale, so a busy key is not a hot document.
 * `knownId`: the key this hash resolved to before (the proxy remembers it), fetched by id and
 * taken only if its hash is this one; otherwise the hash is looked up.
 */
export async function authenticateKeyHash(
  ctx: MutationCtx,
  hash: string,
  ip: string | undefined,
  now: number,
  knownId?: Id<"apiKeys">,
): Promise<KeyAuth> {
  const known = knownId === undefined ? null : await ctx.db.get("apiKeys", knownId);
  const key = known !== null && constantTimeEqual(known.hash, hash)
    ? known
    : await ctx.db
      .query("apiKeys")
      .withIndex("by_hash", (q) => q.eq("hash", hash))
      .unique();
  // Either way the hash matched; the explicit comparison guards the invariant cheaply.
  if (key === null || !constantTimeEqual(key.hash, hash)) return { ok: false, reason: "unknown_key" };
  if (keyStatus(key, now) === "revoked") return { ok: false, reason: "key_revoked", prefix: key.prefix };
  // The anomaly policy suspended it (ops/anomalies.ts): refused until support restores it.
  if (key.suspendedAt !== undefined) return { ok: false, reason: "key_suspended", prefix: key.prefix };
  const user = await ctx.db.get("users", key.userId);
  if (user === null) return { ok: false, reason: "account_missing" };
  if (key.lastUsedAt === undefined || now - key.lastUsedAt > LAST_USED_STALE_MS) {
    await ctx.db.patch("apiKeys", key._id, { lastUsedAt: now, ...(ip ? { lastUsedIp: ip } : {}) });
  }
  return { ok: true, key, user };
}

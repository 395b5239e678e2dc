// Admin API keys (the "Admin API keys" page): admins create and revoke them; the admin HTTP API
// (api.ts) authenticates with them. The secret is returned once by `create`; only its SHA-256 is
// stored. Creating and revoking are audit-logged (target type "adminApiKey").
import { v } from "convex/values";
import { adminMutation, adminQuery, internalMutation } from "../functions";
import { actorOf, audit } from "../lib/audit";
import { fail } from "../lib/errors";
import { constantTimeEqual, hashSecret } from "../model/apiKeySecrets";
import { adminDisplayPrefix, cleanKeyName, generateAdminSecret } from "../model/admin/adminKeys";
import schema from "../schema";
import { requireReason } from "./reason";

const key = schema.tables.adminApiKeys.validator.fields;

export const adminKeyRowValidator = v.object({
  _id: v.id("adminApiKeys"),
  name: key.name,
  prefix: key.prefix,
  createdAt: key.createdAt,
  createdByLabel: key.createdByLabel,
  lastUsedAt: key.lastUsedAt,
  revokedAt: key.revokedAt,
  revokedByLabel: key.revokedByLabel,
});

/** Live admin keys are few by design; the cap keeps a runaway script from minting thousands. */
export const MAX_ADMIN_KEYS = 200;
/** lastUsedAt is written only when older than this, so a busy key is not a hot document. */
const LAST_USED_STALE_MS = 60_000;

/** Newest first; the secret is never part of a listing. */
export const list = adminQuery({
  args: {},
  returns: v.array(adminKeyRowValidator),
  handler: async (ctx) => {
    const rows = await ctx.db.query("adminApiKeys").order("desc").take(MAX_ADMIN_KEYS);
    return rows.map((r) => ({
      _id: r._id,
      name: r.name,
      prefix: r.prefix,
      createdAt: r.createdAt,
      createdByLabel: r.createdByLabel,
      lastUsedAt: r.lastUsedAt,
      revokedAt: r.revokedAt,
      revokedByLabel: r.revokedByLabel,
    }));
  },
});

/** The only response that ever contains the secret. */
export const create = adminMutation({
  args: { name: v.string(), reason: v.string() },
  returns: v.object({ keyId: v.id("adminApiKeys"), secret: v.string(), prefix: v.string() }),
  handler: async (ctx, { name, reason }) => {
    const why = requireReason(reason);
    const clean = cleanKeyName(name);
    if (clean === null) fail("INVALID_ARGUMENT", "An admin key's name must be 1 to 64 characters long.");
    const existing = await ctx.db.query("adminApiKeys").take(MAX_ADMIN_KEYS);
    if (existing.length >= MAX_ADMIN_KEYS) fail("CONFLICT", `There are already ${MAX_ADMIN_KEYS} admin keys; revoke unused ones first.`);
    const secret = generateAdminSecret();
    const prefix = adminDisplayPrefix(secret);
    const keyId = await ctx.db.insert("adminApiKeys", {
      name: clean,
      prefix,
      hash: await hashSecret(secret),
      createdAt: Date.now(),
      createdById: ctx.user._id,
      createdByLabel: ctx.user.email,
    });
    await audit(ctx, actorOf(ctx.user), "adminApiKey.created", { type: "adminApiKey", id: keyId }, why, { prefix, name: clean });
    return { keyId, secret, prefix };
  },
});

export const revoke = adminMutation({
  args: { keyId: v.id("adminApiKeys"), reason: v.string() },
  returns: v.null(),
  handler: async (ctx, { keyId, reason }) => {
    const why = requireReason(reason);
    const row = await ctx.db.get("adminApiKeys", keyId);
    if (row === null) fail("NOT_FOUND", "No such admin key.");
    if (row.revokedAt !== undefined) fail("CONFLICT", `The admin key ${row.prefix}… is already revoked.`);
    await ctx.db.patch("adminApiKeys", keyId, { revokedAt: Date.now(), revokedByLabel: ctx.user.email });
    await audit(ctx, actorOf(ctx.user), "adminApiKey.revoked", { type: "adminApiKey", id: keyId }, why, { prefix: row.prefix });
    return null;
  },
});

/**
 * The admin API's key check: the key by its hash, refused if revoked; lastUsedAt when stale.
 * The secret itself never reaches a mutation: the HTTP action hashes it first.
 */
export const authenticate = internalMutation({
  args: { hash: v.string() },
  returns: v.union(
    v.object({ ok: v.literal(true), keyId: v.id("adminApiKeys"), prefix: v.string(), name: v.string() }),
    v.object({ ok: v.literal(false), reason: v.union(v.literal("unknown"), v.literal("revoked")), prefix: v.optional(v.string()) }),
  ),
  handler: async (ctx, { hash }) => {
    const row = await ctx.db.query("adminApiKeys").withIndex("by_hash", (q) => q.eq("hash", hash)).unique();
    if (row === null || !constantTimeEqual(row.hash, hash)) return { ok: false as const, reason: "unknown" as const };
    if (row.revokedAt !== undefined) return { ok: false as const, reason: "revoked" as const, prefix: row.prefix };
    const now = Date.now();
    if (row.lastUsedAt === undefined || now - row.lastUsedAt > LAST_USED_STALE_MS) await ctx.db.patch("adminApiKeys", row._id, { lastUsedAt: now });
    return { ok: true as const, keyId: row._id, prefix: row.prefix, name: row.name };
  },
});

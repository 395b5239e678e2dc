// Short-lived bearer secrets besides API keys (convex/credentials/README.md): scoped provider
// credentials per account and provider, browser session tokens, and which master provider key
// new requests use. Secrets are stored only as salted keyed hashes (model/credentials/tokens.ts).
import { defineTable } from "convex/server";
import { v } from "convex/values";

export const credentialProviderValidator = v.union(
  v.literal("openai"),
  v.literal("anthropic"),
  v.literal("gemini"),
  v.literal("elevenlabs"),
);

/** The proxy endpoints a credential may call (model/pricing.ts Endpoint). */
export const credentialScopeValidator = v.union(
  v.literal("chat"),
  v.literal("completion"),
  v.literal("embedding"),
  v.literal("speech"),
);

export const credentialStatusValidator = v.union(v.literal("active"), v.literal("rotating"), v.literal("revoked"));

/** A credential as people and support see it (credentials/store.ts credentialView): no hash, salt or lookup id. */
export const credentialViewValidator = v.object({
  id: v.id("providerCredentials"),
  provider: credentialProviderValidator,
  scopes: v.array(credentialScopeValidator),
  status: credentialStatusValidator,
  issuedAt: v.number(),
  expiresAt: v.number(),
  overlapEndsAt: v.optional(v.number()),
  lastRotatedAt: v.optional(v.number()),
  revokedAt: v.optional(v.number()),
  revokedReason: v.optional(v.string()),
  issuedBy: v.optional(v.string()),
});

export const credentialsTables = {
  providerCredentials: defineTable({
    userId: v.id("users"),
    provider: credentialProviderValidator,
    /** The token's public part (`pdx_pc_<lookupId>...`): finds the row; proves nothing. */
    lookupId: v.string(),
    /** SHA-256(salt ":" HMAC(ENCRYPTION_KEY-derived key, secret)). */
    tokenHash: v.string(),
    /** Random per credential. */
    salt: v.string(),
    scopes: v.array(credentialScopeValidator),
    issuedAt: v.number(),
    expiresAt: v.number(),
    status: credentialStatusValidator,
    /** While rotating: when it stops working (min of expiresAt and rotation + overlap). */
    overlapEndsAt: v.optional(v.number()),
    lastRotatedAt: v.optional(v.number()),
    revokedAt: v.optional(v.number()),
    /** "rotated" after an overlap ended; support's reason for a revoke; "account deleted". */
    revokedReason: v.optional(v.string()),
    /** Who issued it: the holder's POST, or support's rotate. */
    issuedBy: v.optional(v.string()),
  })
    .index("by_lookupId", ["lookupId"])
    .index("by_userId_and_provider_and_status", ["userId", "provider", "status"])
    .index("by_status_and_expiresAt", ["status", "expiresAt"])
    .index("by_status_and_overlapEndsAt", ["status", "overlapEndsAt"]),

  /** Browser session tokens from POST /api/session: 15 minutes, hashed like credentials. */
  sessionTokens: defineTable({
    userId: v.id("users"),
    lookupId: v.string(),
    tokenHash: v.string(),
    salt: v.string(),
    issuedAt: v.number(),
    expiresAt: v.number(),
    revokedAt: v.optional(v.number()),
  })
    .index("by_lookupId", ["lookupId"])
    .index("by_userId", ["userId"])
    .index("by_expiresAt", ["expiresAt"]),

  /**
   * The master key id support chose per provider (model/credentials/masterKeys.ts); absent, the
   * env's P_ACTIVE_KEY_ID decides. Written only when someone switches keys.
   */
  masterKeySettings: defineTable({
    provider: credentialProviderValidator,
    activeKeyId: v.string(),
    updatedAt: v.number(),
    updatedBy: v.string(),
  }).index("by_provider", ["provider"]),
};

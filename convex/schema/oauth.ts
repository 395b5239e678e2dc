// Dex connect (OAuth 2.0 + PKCE, device flow). Empty until the Dex connect issue (#11) lands.
import { defineTable } from "convex/server";
import { v } from "convex/values";

export const oauthTables = {
  oauthClients: defineTable({
    userId: v.id("users"),
    clientId: v.string(),
    name: v.string(),
    redirectUris: v.array(v.string()),
    createdAt: v.number(),
    revokedAt: v.optional(v.number()),
  })
    .index("by_clientId", ["clientId"])
    .index("by_userId", ["userId"]),

  oauthCodes: defineTable({
    userId: v.id("users"),
    clientId: v.string(),
    codeHash: v.string(),
    redirectUri: v.string(),
    codeChallenge: v.string(),
    scopes: v.array(v.string()),
    expiresAt: v.number(),
    usedAt: v.optional(v.number()),
  }).index("by_codeHash", ["codeHash"]),

  oauthTokens: defineTable({
    userId: v.id("users"),
    clientId: v.string(),
    kind: v.union(v.literal("access"), v.literal("refresh")),
    tokenHash: v.string(),
    // Refresh tokens of one grant share a family; reuse of a spent one revokes the family.
    familyId: v.string(),
    scopes: v.array(v.string()),
    expiresAt: v.number(),
    usedAt: v.optional(v.number()),
    revokedAt: v.optional(v.number()),
  })
    .index("by_tokenHash", ["tokenHash"])
    .index("by_familyId", ["familyId"])
    .index("by_userId", ["userId"]),
};

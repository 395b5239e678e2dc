// Short-lived scoped provider credentials. Empty until the operations issue (#13) lands.
import { defineTable } from "convex/server";
import { v } from "convex/values";

export const credentialsTables = {
  providerCredentials: defineTable({
    userId: v.id("users"),
    provider: v.string(),
    tokenHash: v.string(),
    salt: v.string(),
    encryptedSecret: v.optional(v.string()),
    scopes: v.array(v.string()),
    issuedAt: v.number(),
    expiresAt: v.optional(v.number()),
    status: v.union(v.literal("active"), v.literal("rotating"), v.literal("revoked")),
    lastRotatedAt: v.optional(v.number()),
  })
    .index("by_userId_and_provider", ["userId", "provider"])
    .index("by_status_and_expiresAt", ["status", "expiresAt"]),
};

// Dex connect (issue #11): OAuth 2.0 authorization code + PKCE and the device flow. Every Dex
// instance is one public client, so there is no clients table: a grant names the instance
// (client_id) it was given to. Codes, tokens and device codes are stored only as keyed hashes
// (model/oauth/secrets.ts); see convex/oauth/README.md for the state diagram.
import { defineTable } from "convex/server";
import { v } from "convex/values";

export const oauthScopeValidator = v.union(
  v.literal("identity"),
  v.literal("email"),
  v.literal("signal"),
  v.literal("calendar"),
  v.literal("ai"),
  v.literal("usage"),
);

export const oauthGrantRevocationValidator = v.union(
  v.literal("user"),
  v.literal("support"),
  v.literal("code_reuse"),
  v.literal("refresh_reuse"),
  v.literal("client"),
  v.literal("replaced"),
);

export const oauthTables = {
  // One authorization of one instance by one account; every token hangs off a grant, and
  // revoking the grant ends them all at once (the Dex API checks the grant on every call).
  oauthGrants: defineTable({
    userId: v.id("users"),
    instanceId: v.string(),
    scopes: v.array(oauthScopeValidator),
    via: v.union(v.literal("authorization_code"), v.literal("device")),
    createdAt: v.number(),
    // Updated at most once a minute by token use, so a busy instance does not write per call.
    lastUsedAt: v.optional(v.number()),
    lastIp: v.optional(v.string()),
    revokedAt: v.optional(v.number()),
    revokedBy: v.optional(oauthGrantRevocationValidator),
    // Set by the retention sweep (oauth/maintenance.ts) once a revoked grant's token rows are
    // deleted; the grant itself stays for the Instances page and support.
    tokensPurgedAt: v.optional(v.number()),
  })
    .index("by_userId_and_revokedAt", ["userId", "revokedAt"])
    .index("by_userId_and_instanceId", ["userId", "instanceId"])
    .index("by_tokensPurgedAt_and_revokedAt", ["tokensPurgedAt", "revokedAt"]),

  // Authorization codes: 60 s, single use. usedAt and grantId stay so a second use can revoke
  // what the first one issued.
  oauthCodes: defineTable({
    userId: v.id("users"),
    clientId: v.string(),
    codeHash: v.string(),
    redirectUri: v.string(),
    codeChallenge: v.string(),
    scopes: v.array(oauthScopeValidator),
    expiresAt: v.number(),
    usedAt: v.optional(v.number()),
    grantId: v.optional(v.id("oauthGrants")),
  })
    .index("by_codeHash", ["codeHash"])
    .index("by_expiresAt", ["expiresAt"]),

  oauthTokens: defineTable({
    grantId: v.id("oauthGrants"),
    userId: v.id("users"),
    kind: v.union(v.literal("access"), v.literal("refresh")),
    tokenHash: v.string(),
    scopes: v.array(oauthScopeValidator),
    expiresAt: v.number(),
    revokedAt: v.optional(v.number()),
    // Refresh tokens only: when this one was exchanged, and the new pair sealed under a key from
    // this token (model/oauth/successor.ts), kept for the grace window so a racing repeat gets
    // the same pair. Cleared when the successor itself rotates.
    rotatedAt: v.optional(v.number()),
    successorSealed: v.optional(v.string()),
    // The refresh token this pair replaced (whose seal is cleared once this one rotates).
    parentId: v.optional(v.id("oauthTokens")),
  })
    .index("by_tokenHash", ["tokenHash"])
    .index("by_grantId_and_expiresAt", ["grantId", "expiresAt"])
    .index("by_expiresAt", ["expiresAt"]),

  // RFC 8628 device authorizations: the device code and the user code both hashed.
  oauthDeviceCodes: defineTable({
    deviceCodeHash: v.string(),
    userCodeHash: v.string(),
    clientId: v.string(),
    scopes: v.array(oauthScopeValidator),
    status: v.union(v.literal("pending"), v.literal("approved"), v.literal("denied"), v.literal("consumed")),
    expiresAt: v.number(),
    intervalSeconds: v.number(),
    lastPolledAt: v.optional(v.number()),
    userId: v.optional(v.id("users")),
    grantId: v.optional(v.id("oauthGrants")),
  })
    .index("by_deviceCodeHash", ["deviceCodeHash"])
    .index("by_userCodeHash", ["userCodeHash"])
    .index("by_expiresAt", ["expiresAt"]),

  // https redirect URLs an account registered on the Instances page (matched exactly).
  oauthRedirectUris: defineTable({
    userId: v.id("users"),
    uri: v.string(),
    createdAt: v.number(),
  }).index("by_userId_and_uri", ["userId", "uri"]),

  // A connect request whose person went to checkout from /connect as a new customer: when they
  // come back to the same request with the plan active, it is approved without asking again.
  oauthPendingConnects: defineTable({
    userId: v.id("users"),
    // SHA-256 of the request (client, redirect URI, challenge, state, scopes): only that exact request.
    requestHash: v.string(),
    createdAt: v.number(),
  })
    .index("by_userId_and_requestHash", ["userId", "requestHash"])
    .index("by_createdAt", ["createdAt"]),
};

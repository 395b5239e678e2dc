// Identity provisioning. Empty until the identity issue (#10) lands: a Workspace mailbox,
// a Telnyx number and a Signal registration per paid account; each step runs as workpool
// work referenced by workId from the identity row.
import { defineTable } from "convex/server";
import { v } from "convex/values";
import { stepStatusValidator } from "./validators";

export const identityTables = {
  identities: defineTable({
    userId: v.id("users"),
    status: v.union(
      v.literal("pending"),
      v.literal("provisioning"),
      v.literal("ready"),
      v.literal("failed"),
      v.literal("deprovisioning"),
      v.literal("deprovisioned"),
    ),
    workspaceEmail: v.optional(v.string()),
    workspaceUserId: v.optional(v.string()),
    phoneNumber: v.optional(v.string()),
    telnyxNumberId: v.optional(v.string()),
    signalStatus: v.optional(
      v.union(
        v.literal("unregistered"),
        v.literal("awaiting_code"),
        v.literal("registered"),
        v.literal("failed"),
      ),
    ),
    steps: v.array(
      v.object({
        name: v.string(),
        status: stepStatusValidator,
        error: v.optional(v.string()),
        updatedAt: v.number(),
      }),
    ),
    updatedAt: v.number(),
  }).index("by_userId", ["userId"]),

  incomingSms: defineTable({
    to: v.string(),
    from: v.string(),
    text: v.string(),
    providerMessageId: v.string(),
    receivedAt: v.number(),
  }).index("by_to_and_receivedAt", ["to", "receivedAt"]),
};

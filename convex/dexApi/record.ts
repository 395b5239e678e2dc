// Usage events of the Dex API: one append-only usageEvents row per operation that changed
// something (a mail sent, a message trashed, a Signal message sent, a calendar write), counted
// rather than priced. The ledger's settle path is for metered AI requests (holds, tokens, money);
// these need none of it, so they are written here. The rollup folds them into usageDaily under
// the model name `dex:<kind>`, which the usage page and GET /v1/usage show as counts.
import { v } from "convex/values";
import { internalMutation } from "../functions";
import { DEX_USAGE_MODEL_PREFIX } from "../model/dexApi/usage";
import { dexUsageKindValidator } from "../schema/validators";

export const operation = internalMutation({
  args: {
    userId: v.id("users"),
    kind: dexUsageKindValidator,
    provider: v.union(v.literal("google"), v.literal("signal")),
    apiKeyId: v.optional(v.id("apiKeys")),
    instanceId: v.optional(v.string()),
    requestId: v.string(),
    latencyMs: v.number(),
    httpStatus: v.number(),
  },
  returns: v.null(),
  handler: async (ctx, args) => {
    await ctx.db.insert("usageEvents", {
      userId: args.userId,
      ...(args.apiKeyId !== undefined ? { apiKeyId: args.apiKeyId } : {}),
      ...(args.instanceId !== undefined ? { instanceId: args.instanceId } : {}),
      requestId: args.requestId,
      kind: args.kind,
      provider: args.provider,
      model: `${DEX_USAGE_MODEL_PREFIX}${args.kind}`,
      tokensIn: 0,
      tokensOut: 0,
      characters: 0,
      costMicros: 0,
      priceVersion: "dex-api",
      usageSource: "provider",
      latencyMs: args.latencyMs,
      status: "ok",
      httpStatus: args.httpStatus,
      at: Date.now(),
    });
    return null;
  },
});

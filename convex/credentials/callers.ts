// The read the unmetered AI endpoints (/v1/models, refusals before a hold) make for a provider
// credential or session token, like apiKeys/callers.ts `lookup` for keys: the row (when its
// salted hash matches) and its account, nothing written, no clock in the arguments. The caller
// applies the time rules with its own clock (credentials/bearer.ts decideBearer).
import { v } from "convex/values";
import type { QueryCtx } from "../_generated/server";
import { internalQuery } from "../functions";
import schema from "../schema";
import { readBearerRow } from "./bearer";

const users = schema.tables.users.validator.fields;
const creds = schema.tables.providerCredentials.validator.fields;
const sessions = schema.tables.sessionTokens.validator.fields;

const accountValidator = v.union(v.null(), v.object({ userId: v.id("users"), plan: users.plan, state: users.state }));

const lookupValidator = v.union(
  v.object({ found: v.literal(false) }),
  v.object({
    found: v.literal(true),
    kind: v.literal("provider_credential"),
    row: v.object({ status: creds.status, expiresAt: creds.expiresAt, overlapEndsAt: creds.overlapEndsAt, provider: creds.provider, scopes: creds.scopes }),
    account: accountValidator,
  }),
  v.object({
    found: v.literal(true),
    kind: v.literal("session_token"),
    row: v.object({ expiresAt: sessions.expiresAt, revokedAt: sessions.revokedAt }),
    account: accountValidator,
  }),
);

async function lookupHandler(ctx: QueryCtx, args: { kind: "provider_credential" | "session_token"; hash: string }) {
  const found = await readBearerRow(ctx, args.kind, args.hash);
  if (found === null) return { found: false as const };
  const user = await ctx.db.get("users", found.row.userId);
  const account = user === null ? null : { userId: user._id, plan: user.plan, state: user.state };
  if (found.kind === "provider_credential") {
    const { status, expiresAt, overlapEndsAt, provider, scopes } = found.row;
    return { found: true as const, kind: found.kind, row: { status, expiresAt, overlapEndsAt, provider, scopes }, account };
  }
  const { expiresAt, revokedAt } = found.row;
  return { found: true as const, kind: found.kind, row: { expiresAt, revokedAt }, account };
}

/** A credential or session token by `<lookupId>.<presented hash>`, and its account. */
export const lookup = internalQuery({
  args: { kind: v.union(v.literal("provider_credential"), v.literal("session_token")), hash: v.string() },
  returns: lookupValidator,
  handler: lookupHandler,
});

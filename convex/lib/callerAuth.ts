// The AI endpoints' caller, from the Bearer secret's hash and its kind: an API key (`pk_live_`,
// SHA-256) or an OAuth access token (`pdx_at_`, keyed hash) whose grant has the `ai` scope.
// Both end in the same account, so quota, holds, limits and usage events follow the account
// whichever credential was sent. Ctx helpers only; `quota.ledger.begin` calls this inside its
// transaction, so a token costs no extra function call.
import { v } from "convex/values";
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import type { Scope } from "../model/oauth/clients";
import { accessRefusal } from "../model/oauth/lifecycle";
import type { CallerRefusal } from "../model/quota/admission";
import { touchGrant } from "../oauth/store";
import { authenticateKeyHash } from "./apiKeys";
import { decideBearer, readBearerRow } from "../credentials/bearer";
import type { Endpoint } from "../model/pricing";

export type SecretKind = "api_key" | "access_token" | "provider_credential" | "session_token";
export const secretKindValidator = v.union(
  v.literal("api_key"),
  v.literal("access_token"),
  // Short-lived credentials (credentials/README.md): the hash is `<lookupId>.<presented hash>`.
  v.literal("provider_credential"),
  v.literal("session_token"),
);

/** The scope an access token needs for the AI proxy (`/v1/chat/completions` ... `/v1/models`). */
export const AI_SCOPE: Scope = "ai";

export type CallerAuth =
  | {
      ok: true;
      user: Doc<"users">;
      /** Set for a key. */
      apiKeyId?: Id<"apiKeys">;
      /** Set for an access token: its grant and the instance the grant was given to. */
      grantId?: Id<"oauthGrants">;
      instanceId?: string;
      /** Set for a rotating provider credential: when it stops working (its holder should refresh). */
      credentialRotatingUntil?: number;
    }
  | { ok: false; refusal: CallerRefusal };

/** What the token rules look at, from a token row and its grant (documents, or a query's projection of them). */
export interface TokenRead<T extends StoredToken = StoredToken, G extends StoredGrant = StoredGrant> {
  token: T | null;
  grant: G | null;
}
export type StoredToken = Pick<Doc<"oauthTokens">, "kind" | "expiresAt" | "revokedAt" | "scopes" | "userId">;
export type StoredGrant = Pick<Doc<"oauthGrants">, "revokedAt">;

/** An access token's row by its keyed hash, and its grant: 2 documents at most. */
export async function readToken(ctx: QueryCtx, tokenHash: string): Promise<TokenRead<Doc<"oauthTokens">, Doc<"oauthGrants">>> {
  const token = await ctx.db.query("oauthTokens").withIndex("by_tokenHash", (q) => q.eq("tokenHash", tokenHash)).unique();
  const grant = token === null ? null : await ctx.db.get("oauthGrants", token.grantId);
  return { token, grant };
}

/**
 * The token rules every AI endpoint applies, on a read: unknown, not an access token, revoked
 * (the grant or the token) or expired is `token_invalid`; a token without `scope` is
 * `insufficient_scope`. The scope is the token's own (a refresh may have narrowed it below the
 * grant's).
 */
export function tokenDecision<T extends StoredToken, G extends StoredGrant>(
  read: TokenRead<T, G>,
  scope: Scope,
  now: number,
): { ok: true; token: T; grant: G } | { ok: false; refusal: CallerRefusal } {
  const { token, grant } = read;
  const why = accessRefusal(token, grant === null || grant.revokedAt !== undefined, now);
  if (why !== null || token === null || grant === null) return { ok: false, refusal: { reason: "token_invalid", why: why ?? "unknown_token" } };
  if (!token.scopes.includes(scope)) return { ok: false, refusal: { reason: "insufficient_scope", scope } };
  return { ok: true, token, grant };
}

/**
 * Resolves the Bearer secret's hash to the calling account. A key: its row and owner, its last
 * use recorded when stale (lib/apiKeys.ts). A token: its row, its grant and the owner, the
 * grant's last use recorded at most once a minute (oauth/store.ts). Either way at most 3
 * documents read and 1 written.
 */
export async function authenticateBearer(
  ctx: MutationCtx,
  args: {
    hash: string;
    kind: SecretKind;
    ip: string | undefined;
    now: number;
    scope: Scope;
    request?: { model: string; kind: Endpoint };
    /** For a key: the key this hash resolved to before, fetched by id and checked (lib/apiKeys.ts). */
    knownKeyId?: Id<"apiKeys">;
  },
): Promise<CallerAuth> {
  if (args.kind === "provider_credential" || args.kind === "session_token") {
    // A credential's scopes name a provider and endpoints, so the request is checked against them.
    const found = await readBearerRow(ctx, args.kind, args.hash);
    const decided = decideBearer(args.kind, found, args.now, args.request);
    if (!decided.ok || found === null) return decided.ok ? { ok: false, refusal: { reason: "account_missing" } } : decided;
    const user = await ctx.db.get("users", found.row.userId);
    if (user === null) return { ok: false, refusal: { reason: "account_missing" } };
    return { ok: true, user, ...(decided.rotatingUntil !== undefined ? { credentialRotatingUntil: decided.rotatingUntil } : {}) };
  }
  if (args.kind === "api_key") {
    const auth = await authenticateKeyHash(ctx, args.hash, args.ip, args.now, args.knownKeyId);
    if (!auth.ok) {
      const { ok: _ok, ...refusal } = auth;
      return { ok: false, refusal };
    }
    return { ok: true, user: auth.user, apiKeyId: auth.key._id };
  }
  const decided = tokenDecision(await readToken(ctx, args.hash), args.scope, args.now);
  if (!decided.ok) return decided;
  const user = await ctx.db.get("users", decided.token.userId);
  if (user === null) return { ok: false, refusal: { reason: "account_missing" } };
  await touchGrant(ctx, decided.grant, args.ip, args.now);
  return { ok: true, user, grantId: decided.grant._id, instanceId: decided.grant.instanceId };
}

// Ctx helpers: a provider credential or session token presented as Bearer, from the row its
// lookup id names to the caller's decision. The proxy's metered path runs this inside
// `quota.ledger.begin` (lib/callerAuth.ts), so a credential costs no extra function call; the
// unmetered path (/v1/models, refusals before a hold) reads the same through
// credentials/callers.ts `lookup`. At most 2 documents read, nothing written.
import type { Doc } from "../_generated/dataModel";
import type { QueryCtx } from "../_generated/server";
import { credentialRefusal, scopeCovers, sessionRefusal, usableUntil } from "../model/credentials/lifecycle";
import { decodeBearerHash, matchesStored, type TokenKind } from "../model/credentials/tokens";
import type { Endpoint } from "../model/pricing";
import type { CallerRefusal } from "../model/quota/admission";

export type BearerRow =
  | { kind: "provider_credential"; row: Doc<"providerCredentials"> }
  | { kind: "session_token"; row: Doc<"sessionTokens"> };

/**
 * The row the bearer hash (`<lookupId>.<presented hash>`, model/credentials/tokens.ts) names,
 * when its salted hash matches; null for an unknown or forged token.
 */
export async function readBearerRow(ctx: QueryCtx, kind: TokenKind, bearerHash: string): Promise<BearerRow | null> {
  const decoded = decodeBearerHash(bearerHash);
  if (decoded === null) return null;
  if (kind === "provider_credential") {
    const row = await ctx.db
      .query("providerCredentials")
      .withIndex("by_lookupId", (q) => q.eq("lookupId", decoded.lookupId))
      .unique();
    return row !== null && (await matchesStored(row, decoded.presented)) ? { kind, row } : null;
  }
  const row = await ctx.db
    .query("sessionTokens")
    .withIndex("by_lookupId", (q) => q.eq("lookupId", decoded.lookupId))
    .unique();
  return row !== null && (await matchesStored(row, decoded.presented)) ? { kind, row } : null;
}

/** What the rules look at (a row, or a query's projection of one). */
export type BearerView =
  | { kind: "provider_credential"; row: Pick<Doc<"providerCredentials">, "status" | "expiresAt" | "overlapEndsAt" | "provider" | "scopes"> }
  | { kind: "session_token"; row: Pick<Doc<"sessionTokens">, "expiresAt" | "revokedAt"> };

export type BearerDecision =
  | {
      ok: true;
      /** When a rotating credential stops working: its holder is told to fetch the successor. */
      rotatingUntil?: number;
    }
  | { ok: false; refusal: CallerRefusal };

/**
 * The rules on a read row at `now`: unknown, expired or revoked is `credential_invalid`; a
 * credential whose provider or scopes do not cover the request is `credential_scope`. Session
 * tokens cover every AI endpoint of their account.
 */
export function decideBearer(kind: TokenKind, found: BearerView | null, now: number, request?: { model: string; kind: Endpoint }): BearerDecision {
  if (found === null) return { ok: false, refusal: { reason: "credential_invalid", kind, why: "unknown" } };
  if (found.kind === "session_token") {
    const why = sessionRefusal(found.row, now);
    return why === null ? { ok: true } : { ok: false, refusal: { reason: "credential_invalid", kind, why } };
  }
  const c = found.row;
  const why = credentialRefusal(c, now);
  if (why !== null) return { ok: false, refusal: { reason: "credential_invalid", kind, why } };
  if (request && !scopeCovers(c, request)) {
    return { ok: false, refusal: { reason: "credential_scope", provider: c.provider, scopes: c.scopes, model: request.model } };
  }
  return c.status === "rotating" ? { ok: true, rotatingUntil: usableUntil(c) } : { ok: true };
}

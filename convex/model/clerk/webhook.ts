// Clerk's webhooks, as data: the Svix headers in the names the Standard Webhooks verifier
// reads, what a verified payload says about which user, and the account a Clerk user owns.
// No Convex imports: convex/clerk/ applies what these functions decide.
import { normalizeEmail } from "../accounts/email";

/** Svix (Clerk's delivery service) signs Standard Webhooks under its own header names. */
const SVIX_TO_STANDARD = {
  "svix-id": "webhook-id",
  "svix-timestamp": "webhook-timestamp",
  "svix-signature": "webhook-signature",
} as const;

export type StandardWebhookHeaders = Record<(typeof SVIX_TO_STANDARD)[keyof typeof SVIX_TO_STANDARD], string>;

/**
 * The three signature headers under their Standard Webhooks names, or null when one is
 * missing or empty (the request cannot be verified, so it is refused before anything else).
 */
export function standardHeadersFromSvix(get: (name: string) => string | null): StandardWebhookHeaders | null {
  const out: Partial<StandardWebhookHeaders> = {};
  for (const [svix, standard] of Object.entries(SVIX_TO_STANDARD)) {
    const value = get(svix)?.trim();
    if (!value) return null;
    out[standard] = value;
  }
  return out as StandardWebhookHeaders;
}

/**
 * What a verified Clerk event asks of us. Only two kinds change anything; every other event
 * (user.created included: the account is made at first sign-in, with the person's own token)
 * is recorded and acknowledged.
 */
export type ClerkEvent =
  | {
      kind: "user.updated";
      clerkUserId: string;
      /** The verified primary address, normalized; null when the user has none. */
      primaryEmail: string | null;
      /** Clerk's `updated_at` (epoch ms): orders updates that arrive out of order. */
      updatedAt: number | null;
    }
  | { kind: "user.deleted"; clerkUserId: string }
  | { kind: "other" }
  | { kind: "malformed"; reason: string };

/** Every way an event can end; stored in webhookEvents.outcome and answered to Clerk. */
export type ClerkOutcome =
  | "email_updated"
  | "email_unchanged"
  | "stale_update"
  | "no_verified_primary_email"
  | "no_account"
  | "deletion_requested"
  | "deletion_already_requested"
  | "ignored"
  | "malformed";

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

/**
 * The primary address of a Clerk user object (`email_addresses` + `primary_email_address_id`),
 * normalized, and only when Clerk marks it verified: an address nobody proved they own must
 * not become an account's email.
 */
export function primaryEmailOf(user: Record<string, unknown>): string | null {
  const primaryId = user.primary_email_address_id;
  const addresses = user.email_addresses;
  if (typeof primaryId !== "string" || !Array.isArray(addresses)) return null;
  const primary = addresses.find((a): a is Record<string, unknown> => isRecord(a) && a.id === primaryId);
  if (primary === undefined || typeof primary.email_address !== "string") return null;
  const verification = primary.verification;
  if (!isRecord(verification) || verification.status !== "verified") return null;
  return normalizeEmail(primary.email_address);
}

/**
 * The event type of a verified body, or null when the body is not a Clerk event at all
 * (then the request is refused with a 400 and nothing is recorded).
 */
export function eventTypeOf(body: unknown): string | null {
  return isRecord(body) && typeof body.type === "string" && body.type !== "" ? body.type : null;
}

/** What a verified Clerk event (its parsed JSON body) asks of us. */
export function parseClerkEvent(body: unknown): ClerkEvent {
  if (!isRecord(body) || typeof body.type !== "string") return { kind: "malformed", reason: "no event type" };
  if (body.type !== "user.updated" && body.type !== "user.deleted") return { kind: "other" };
  const data = body.data;
  if (!isRecord(data) || typeof data.id !== "string" || data.id === "") {
    return { kind: "malformed", reason: `${body.type} without data.id` };
  }
  if (body.type === "user.deleted") return { kind: "user.deleted", clerkUserId: data.id };
  return {
    kind: "user.updated",
    clerkUserId: data.id,
    primaryEmail: primaryEmailOf(data),
    updatedAt: typeof data.updated_at === "number" ? data.updated_at : null,
  };
}

/**
 * The tokenIdentifier Convex gives a Clerk user: `${iss}|${sub}`, where `iss` is the issuer
 * (CLERK_JWT_ISSUER_DOMAIN, which auth.config.ts trusts) and `sub` is the Clerk user id.
 * Clerk's `iss` never ends in a slash, so one typed into the variable is dropped.
 */
export function clerkTokenIdentifier(issuerDomain: string, clerkUserId: string): string {
  return `${issuerDomain.trim().replace(/\/+$/, "")}|${clerkUserId}`;
}

/**
 * Whether a user.updated must not be applied because a later one already was: Svix delivers
 * at least once and in no particular order. Unknown times never block (nothing to compare).
 */
export function isStaleUpdate(updatedAt: number | null, lastAppliedUpdatedAt: number | null): boolean {
  return updatedAt !== null && lastAppliedUpdatedAt !== null && updatedAt < lastAppliedUpdatedAt;
}

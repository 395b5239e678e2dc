// Order does not matter: providers deliver at least once and in any order, so every billing
// row keeps the newest provider state it has seen and an older one never moves it back.
//
// Subscriptions: a snapshot replaces the stored one only when it is greater in one total order
// (ended first: a deleted/revoked subscription stays ended whatever arrives after it; then the
// provider's time; then, for snapshots of the same second, the later period and the further
// status). The stored row is the greatest snapshot seen, whatever the arrival order.
//
// Invoices: a status only moves forward (open -> payment_failed -> paid -> refunded).
import type { InvoiceStatus, SubscriptionSnapshot } from "./facts";

/**
 * Only breaks ties between snapshots with the same provider time (Stripe's event.created is in
 * whole seconds): the later a status usually comes in a subscription's life, the higher. A tie
 * is also re-fetched from the provider (convex/billing/refetch.ts), which settles it for real.
 */
const STATUS_RANK: Record<string, number> = {
  incomplete: 0,
  trialing: 1,
  active: 2,
  past_due: 3,
  unpaid: 4,
  paused: 4,
  incomplete_expired: 5,
  canceled: 5,
  revoked: 5,
};

type Key = Pick<SubscriptionSnapshot, "ended" | "version" | "currentPeriodEnd" | "status" | "cancelAtPeriodEnd" | "cancelAt">;

/** Compares two snapshots in the one total order: > 0 when `a` is newer. */
export function compareSnapshots(a: Key, b: Key): number {
  const parts: Array<[number, number]> = [
    [a.ended ? 1 : 0, b.ended ? 1 : 0],
    [a.version, b.version],
    [a.currentPeriodEnd ?? -1, b.currentPeriodEnd ?? -1],
    [STATUS_RANK[a.status] ?? -1, STATUS_RANK[b.status] ?? -1],
    [a.cancelAtPeriodEnd ? 1 : 0, b.cancelAtPeriodEnd ? 1 : 0],
    [a.cancelAt ?? -1, b.cancelAt ?? -1],
  ];
  for (const [x, y] of parts) if (x !== y) return x < y ? -1 : 1;
  return 0;
}

export type SnapshotDecision =
  /** Newer: store it. `tie` when only the same-second tie-breakers decided (re-fetch to be sure). */
  | { apply: true; tie: boolean }
  /** Older than what is stored, or the subscription already ended, or the same state again. */
  | { apply: false; why: "stale" | "already_ended" | "unchanged" };

/**
 * Whether an incoming snapshot replaces the stored one. A provisional row (written by a
 * checkout before the subscription's own event arrived) is replaced by any real snapshot.
 */
export function decideSnapshot(stored: (Key & { provisional: boolean }) | null, incoming: Key): SnapshotDecision {
  if (stored === null) return { apply: true, tie: false };
  if (stored.ended && !incoming.ended) return { apply: false, why: "already_ended" };
  if (stored.provisional && !stored.ended) return { apply: true, tie: false };
  const cmp = compareSnapshots(incoming, stored);
  if (cmp > 0) return { apply: true, tie: incoming.version === stored.version && incoming.ended === stored.ended };
  return { apply: false, why: cmp === 0 ? "unchanged" : "stale" };
}

const INVOICE_RANK: Record<InvoiceStatus, number> = {
  open: 0,
  payment_failed: 1,
  uncollectible: 1,
  paid: 2,
  partially_refunded: 3,
  refunded: 4,
  void: 4,
};

/** Whether an invoice may move from `stored` to `incoming` (never backwards). */
export function invoiceMovesForward(stored: InvoiceStatus, incoming: InvoiceStatus): boolean {
  return INVOICE_RANK[incoming] > INVOICE_RANK[stored];
}

export function isInvoiceStatus(s: string): s is InvoiceStatus {
  return s in INVOICE_RANK;
}

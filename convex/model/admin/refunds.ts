// Refund arithmetic for the console: how much of an invoice can still be refunded, and what a
// request for an amount means. Amounts are micro-dollars in our rows and cents at the providers
// (both Stripe and Polar take the smallest currency unit), so a refund must be whole cents. Pure.

export const MICROS_PER_CENT = 10_000;

export type RefundRowStatus = "pending" | "succeeded" | "failed";

export interface RefundLedger {
  /** What the invoice charged (micro-dollars). */
  paidMicros: number;
  /** Refunds already asked for on it; failed ones returned nothing and do not count. */
  refunds: readonly { amountMicros: number; status: RefundRowStatus }[];
}

/** Paid minus what is refunded or being refunded. */
export function refundableMicros(ledger: RefundLedger): number {
  const taken = ledger.refunds.filter((r) => r.status !== "failed").reduce((sum, r) => sum + r.amountMicros, 0);
  return Math.max(0, ledger.paidMicros - taken);
}

/** Succeeded refunds only: what the customer has back. */
export function refundedMicros(refunds: RefundLedger["refunds"]): number {
  return refunds.filter((r) => r.status === "succeeded").reduce((sum, r) => sum + r.amountMicros, 0);
}

export type RefundDecision =
  | { ok: true; amountMicros: number; amountCents: number; full: boolean }
  | { ok: false; code: "INVALID_ARGUMENT" | "CONFLICT"; message: string };

function dollars(micros: number): string {
  return `$${(micros / 1_000_000).toFixed(2)}`;
}

/**
 * Decides a refund of `requestedMicros` (undefined: everything still refundable). Partial
 * refunds are allowed up to what was paid less earlier refunds; more than that, zero, negative
 * or fractional cents are refused with a message that says what is possible.
 */
export function decideRefund(ledger: RefundLedger, requestedMicros: number | undefined): RefundDecision {
  const left = refundableMicros(ledger);
  if (left <= 0) {
    return { ok: false, code: "CONFLICT", message: "This invoice is already refunded in full (or a refund for the rest is in progress)." };
  }
  const amount = requestedMicros ?? left;
  if (!Number.isFinite(amount) || !Number.isInteger(amount) || amount <= 0) {
    return { ok: false, code: "INVALID_ARGUMENT", message: "A refund must be a positive amount." };
  }
  if (amount % MICROS_PER_CENT !== 0) {
    return { ok: false, code: "INVALID_ARGUMENT", message: "A refund must be a whole number of cents." };
  }
  if (amount > left) {
    return {
      ok: false,
      code: "INVALID_ARGUMENT",
      message: `A refund of ${dollars(amount)} is more than the ${dollars(left)} left to refund on this invoice (paid ${dollars(ledger.paidMicros)}).`,
    };
  }
  return { ok: true, amountMicros: amount, amountCents: amount / MICROS_PER_CENT, full: amount === left && left === ledger.paidMicros };
}

/** The invoice's status once `refundedTotal` of `paidMicros` is back with the customer. */
export function statusAfterRefunds(paidMicros: number, refundedTotal: number): "paid" | "partially_refunded" | "refunded" {
  if (refundedTotal <= 0) return "paid";
  return refundedTotal >= paidMicros ? "refunded" : "partially_refunded";
}

/** An idempotency key the console may send: 8-100 characters of [A-Za-z0-9_-] (a UUID fits). */
export function isIdempotencyKey(key: string): boolean {
  return /^[A-Za-z0-9_-]{8,100}$/.test(key);
}

// Overage, in our terms: which tokens of a month are billable, in which chunks they are reported
// to the provider, under which identifiers and timestamps, what the provider will invoice for
// them, and how a month's reporting is reconciled. Pure; billing/overage*.ts does the I/O.
//
// Tokens beyond the plan's included amount are reported on two meters, input and output, each
// priced per the plan sheet (model/plans.ts). The included allowance covers output tokens first,
// exactly as `overageMicros` charges them, so the quantities reported on the two meters price to
// the same figure the dashboard shows.
import { monthRange } from "../calendar";
import { getPlan, overageMicros, type PlanId } from "../plans";

export type OverageMeter = "input" | "output";
export const OVERAGE_METERS: readonly OverageMeter[] = ["output", "input"];

export interface MeterQuantities {
  input: number;
  output: number;
}

export const NO_QUANTITIES: MeterQuantities = { input: 0, output: 0 };

/**
 * Chunk size in tokens. 100,000 tokens cost a whole number of cents at every overage price on
 * the plan sheet ($3, $15, $2.50 and $12 per 1M: 30, 150, 25 and 120 cents), so every full chunk
 * reported adds whole cents to the provider's invoice and only a month's last, partial chunk can
 * carry a fraction. It also bounds the events a month sends: a Pro account at its hard cap
 * reports 1,500 per meter.
 */
export const OVERAGE_CHUNK_TOKENS = 100_000;

/**
 * What a month's totals put on each meter. Characters of speech count on the input side, as
 * the usage summary charges them (model/usage/summary.ts).
 */
export function meteredUsage(totals: { tokensIn: number; tokensOut: number; characters: number }): MeterQuantities {
  return { input: totals.tokensIn + totals.characters, output: totals.tokensOut };
}

/** Tokens beyond the plan's included amount, per meter; the allowance covers output first. */
export function billableTokens(plan: PlanId, used: MeterQuantities): MeterQuantities {
  const { overage, includedTokens } = getPlan(plan);
  if (overage === null) return NO_QUANTITIES;
  const coveredOut = Math.min(used.output, includedTokens);
  const coveredIn = Math.min(used.input, includedTokens - coveredOut);
  return { input: used.input - coveredIn, output: used.output - coveredOut };
}

/** Billable tokens [from, to) of one meter: one provider event. */
export interface OverageChunk {
  meter: OverageMeter;
  from: number;
  to: number;
}

export interface OverageDecision {
  billable: MeterQuantities;
  /** What to report now, in order; each becomes one outbox row. */
  chunks: OverageChunk[];
  /** The reported-through cursor once those chunks are written. */
  reportedThrough: MeterQuantities;
  /** More is due than `limit` allowed: decide again. */
  more: boolean;
}

/**
 * The chunks to report next, given the month's metered usage, the plan and the reported-through
 * cursor. Chunks are aligned to multiples of the chunk size, so the same billable tokens always
 * fall into the same chunks whatever the timing of the runs. During the month only full chunks
 * go out; `final` (the month is over) also sends the last partial one. Nothing is ever
 * reported twice: a cursor past the billable amount (the plan changed to a larger allowance)
 * reports nothing, and reconciliation shows the difference.
 */
export function decideOverage(args: {
  plan: PlanId;
  used: MeterQuantities;
  reported: MeterQuantities;
  final: boolean;
  limit: number;
  chunkTokens?: number;
}): OverageDecision {
  const size = args.chunkTokens ?? OVERAGE_CHUNK_TOKENS;
  const billable = billableTokens(args.plan, args.used);
  const chunks: OverageChunk[] = [];
  const reportedThrough = { ...args.reported };
  let more = false;
  for (const meter of OVERAGE_METERS) {
    const target = billable[meter];
    let from = reportedThrough[meter];
    while (from < target) {
      const boundary = (Math.floor(from / size) + 1) * size;
      const to = boundary <= target ? boundary : args.final ? target : null;
      if (to === null) break;
      if (chunks.length >= args.limit) {
        more = true;
        break;
      }
      chunks.push({ meter, from, to });
      from = to;
    }
    reportedThrough[meter] = from;
  }
  return { billable, chunks, reportedThrough, more };
}

/**
 * The provider's dedupe key of a chunk (Stripe `identifier`, Polar `external_id`): the same
 * user, month, meter and token range always give the same string, so a retry, a rerun or a
 * second worker sending the chunk again is recognised as the same event. At most 76
 * characters for a Convex id (Stripe allows 100).
 */
export function overageIdentifier(userId: string, month: string, chunk: OverageChunk): string {
  return `ovg_${userId}_${month}_${chunk.meter}_${chunk.from}_${chunk.to}`;
}

/** When a chunk's usage happened: now, or the month's last second once the month is over. */
export function usageTime(month: string, now: number): number {
  const { start, end } = monthRange(month);
  return Math.max(start, Math.min(now, end - 1_000));
}

/** Stripe takes meter events at most 35 days old (and up to 5 minutes ahead). */
export const METER_MAX_AGE_S = 35 * 86_400;
/** Kept clear of that edge, for the time the request spends on the wire. */
const METER_AGE_MARGIN_S = 3_600;

/**
 * The event's timestamp (Unix seconds) when it is sent: its usage time, moved forward only if
 * it has become too old for the provider (a send delayed by weeks), and never in the future.
 */
export function meterTimestampS(occurredAt: number, now: number): number {
  const nowS = Math.floor(now / 1_000);
  return Math.min(nowS, Math.max(Math.floor(occurredAt / 1_000), nowS - METER_MAX_AGE_S + METER_AGE_MARGIN_S));
}

export interface OverageLine {
  meter: OverageMeter;
  tokens: number;
  microsPerMillion: number;
  /** Whole cents, in micro-dollars. */
  amountMicros: number;
}

/**
 * One metered line as the provider invoices it: tokens times the per-token price, rounded to
 * the cent (half up). Integer arithmetic: a Pro month at the hard cap is 1.8e15 micro-units.
 */
export function lineAmountMicros(tokens: number, microsPerMillion: number): number {
  const scaled = BigInt(tokens) * BigInt(microsPerMillion);
  const cents = (scaled + 5_000_000_000n) / 10_000_000_000n;
  return Number(cents) * 10_000;
}

export interface MonthBill {
  planMicros: number;
  billable: MeterQuantities;
  /** The ledger's overage to the micro-dollar (`overageMicros`, as the usage summary shows it). */
  overageMicros: number;
  /** The two metered lines as the provider prices them. */
  lines: OverageLine[];
  /** The lines' sum: what the provider invoices for overage, whole cents. */
  overageBilledMicros: number;
  /** Plan + invoiced overage: the month's bill, to the cent. */
  totalMicros: number;
}

/**
 * The month's bill from the ledger: the plan's price plus the overage lines. A provider rounds
 * each line to the cent, so the invoiced overage can differ from `overageMicros` by the two
 * lines' rounding (under a cent each); `totalMicros` is the figure the invoice will show.
 */
export function monthBill(plan: PlanId, used: MeterQuantities): MonthBill {
  const p = getPlan(plan);
  const billable = billableTokens(plan, used);
  const lines: OverageLine[] =
    p.overage === null
      ? []
      : [
          { meter: "input", tokens: billable.input, microsPerMillion: p.overage.inputMicrosPerMillion, amountMicros: lineAmountMicros(billable.input, p.overage.inputMicrosPerMillion) },
          { meter: "output", tokens: billable.output, microsPerMillion: p.overage.outputMicrosPerMillion, amountMicros: lineAmountMicros(billable.output, p.overage.outputMicrosPerMillion) },
        ];
  const overageBilledMicros = lines.reduce((sum, line) => sum + line.amountMicros, 0);
  return {
    planMicros: p.priceMicrosPerMonth,
    billable,
    overageMicros: overageMicros(plan, used.input, used.output),
    lines,
    overageBilledMicros,
    totalMicros: p.priceMicrosPerMonth + overageBilledMicros,
  };
}

/** A metered price as the provider takes it: cents per token, as a decimal string (Stripe's `unit_amount_decimal`). */
export function centsPerTokenDecimal(microsPerMillion: number): string {
  // micro-dollars per 1M tokens = cents per 1e10 tokens: shift the decimal point ten places.
  const digits = String(microsPerMillion).padStart(11, "0");
  const whole = digits.slice(0, -10).replace(/^0+(?=\d)/, "");
  const fraction = digits.slice(-10).replace(/0+$/, "");
  return fraction === "" ? whole : `${whole}.${fraction}`;
}

export type DiscrepancyKind = "unreported" | "over_reported" | "unsent" | "provider_mismatch";

export interface Discrepancy {
  kind: DiscrepancyKind;
  meter: OverageMeter;
  /** Tokens the earlier stage says there should be. */
  expected: number;
  /** Tokens this stage has. */
  actual: number;
}

/**
 * A month's reporting checked stage by stage, per meter: the ledger's billable tokens against
 * what was decided (the reported-through cursor), that against what the provider acknowledged,
 * and that against the provider's own summary where its API offers one (null: not checked).
 */
export function reconcileOverage(args: {
  billable: MeterQuantities;
  reported: MeterQuantities;
  sent: MeterQuantities;
  provider: MeterQuantities | null;
}): Discrepancy[] {
  const out: Discrepancy[] = [];
  for (const meter of OVERAGE_METERS) {
    const billable = args.billable[meter];
    const reported = args.reported[meter];
    const sent = args.sent[meter];
    if (reported < billable) out.push({ kind: "unreported", meter, expected: billable, actual: reported });
    if (reported > billable) out.push({ kind: "over_reported", meter, expected: billable, actual: reported });
    if (sent !== reported) out.push({ kind: "unsent", meter, expected: reported, actual: sent });
    if (args.provider !== null && args.provider[meter] !== sent) {
      out.push({ kind: "provider_mismatch", meter, expected: sent, actual: args.provider[meter] });
    }
  }
  return out;
}

const KIND_TEXT: Record<DiscrepancyKind, string> = {
  unreported: "the ledger bills more than was decided for reporting",
  over_reported: "more was reported than the ledger bills (did the plan change mid-month?)",
  unsent: "reported chunks the provider has not acknowledged (pending or failed)",
  provider_mismatch: "the provider's meter total differs from what it acknowledged",
};

/** One line per discrepancy, for the alert and the support console. */
export function describeDiscrepancy(d: Discrepancy): string {
  return `${d.meter} tokens: ${KIND_TEXT[d.kind]}: expected ${d.expected.toLocaleString("en-US")}, found ${d.actual.toLocaleString("en-US")}`;
}

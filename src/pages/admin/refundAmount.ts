// The refund form's amount: dollars as typed ("12.5", "$12.50") to integer micro-dollars, whole
// cents only (the providers refund in cents). Pure, unit-tested.

const MICROS_PER_CENT = 10_000;

export type ParsedAmount = { ok: true; micros: number } | { ok: false; message: string };

export function parseDollars(text: string): ParsedAmount {
  const cleaned = text.trim().replace(/^\$/, "").replace(/,/g, "");
  if (!/^\d+(\.\d{1,2})?$/.test(cleaned)) return { ok: false, message: "Enter an amount in dollars with at most two decimals, like 12.50." };
  const [whole, fraction = ""] = cleaned.split(".");
  const cents = Number(whole) * 100 + Number(fraction.padEnd(2, "0"));
  if (cents <= 0) return { ok: false, message: "A refund must be more than $0.00." };
  return { ok: true, micros: cents * MICROS_PER_CENT };
}

/** Micro-dollars as the form's starting text ("30.00"). */
export function dollarsText(micros: number): string {
  return (Math.floor(micros / MICROS_PER_CENT) / 100).toFixed(2);
}

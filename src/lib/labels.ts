import type { Tone } from "./accountState";

/** A status in words, with the tone of its badge. */
export interface Label {
  label: string;
  tone: Tone;
}

/**
 * A status table written tone by tone ("which statuses are warnings?" reads off one line):
 * `{ success: { paid: "Paid" }, critical: { unpaid: "Unpaid" } }` gives
 * `{ paid: { label: "Paid", tone: "success" }, unpaid: { label: "Unpaid", tone: "critical" } }`.
 */
export function labelsByTone<K extends string>(byTone: { [T in Tone]?: { [Key in K]?: string } }): Record<K, Label> {
  const table = {} as Record<K, Label>;
  for (const [tone, labels] of Object.entries(byTone) as [Tone, Record<K, string>][]) {
    for (const [status, label] of Object.entries(labels) as [K, string][]) table[status] = { label, tone };
  }
  return table;
}

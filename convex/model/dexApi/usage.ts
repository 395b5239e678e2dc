// How Dex API operations appear in usage: usageEvents rows whose model is `dex:<kind>`, folded
// into usageDaily by the rollup like any model, so reports count them without a table of their
// own; GET /v1/usage lists them apart from the AI models. Pure.
import { DEX_USAGE_KINDS, type DexUsageKind } from "./operations";

export const DEX_USAGE_MODEL_PREFIX = "dex:";

export function isDexUsageModel(model: string): boolean {
  return model.startsWith(DEX_USAGE_MODEL_PREFIX);
}

/** Per-model month rows -> the AI models, and operation counts by kind (every kind present, 0 when none). */
export function splitOperations<T extends { model: string; requests: number }>(rows: readonly T[]): { models: T[]; operations: Record<DexUsageKind, number> } {
  const operations = Object.fromEntries(DEX_USAGE_KINDS.map((k) => [k, 0])) as Record<DexUsageKind, number>;
  const models: T[] = [];
  for (const row of rows) {
    if (!isDexUsageModel(row.model)) {
      models.push(row);
      continue;
    }
    const kind = row.model.slice(DEX_USAGE_MODEL_PREFIX.length) as DexUsageKind;
    if (kind in operations) operations[kind] += row.requests;
  }
  return { models, operations };
}

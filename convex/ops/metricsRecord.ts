// The one write the metrics make outside their cron: when an identity step finishes (done,
// failed, skipped), the outcome mutation inserts one identityStepOutcomes row. An insert reads
// nothing, so a burst of activations never conflicts on a shared counter; the metrics cron
// (ops/metrics.ts) folds the rows into pdx_identity_steps_total and deletes them.
import type { MutationCtx } from "../_generated/server";
import { stepOutcomes } from "../model/ops/metrics";
import type { StepName, StepRecord } from "../model/identity/provisioning";

export async function recordStepOutcomes(ctx: MutationCtx, before: readonly StepRecord[], after: readonly StepRecord[]): Promise<void> {
  for (const { step, outcome } of stepOutcomes(before, after)) {
    await ctx.db.insert("identityStepOutcomes", { step: step as StepName, outcome });
  }
}

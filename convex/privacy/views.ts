// The progress of a deletion request as the Settings page and support see it.
import { v } from "convex/values";
import type { Doc } from "../_generated/dataModel";
import { currentStep, newSteps, STEP_LABELS } from "../model/privacy/deletion";
import { deletionSourceValidator, deletionStatusValidator, deletionStepNameValidator, deletionStepValidator } from "../schema/operations";

export const deletionViewValidator = v.object({
  _id: v.id("deletionRequests"),
  source: deletionSourceValidator,
  status: deletionStatusValidator,
  requestedAt: v.number(),
  requestedBy: v.union(v.string(), v.null()),
  reason: v.union(v.string(), v.null()),
  finishedAt: v.union(v.number(), v.null()),
  current: v.union(deletionStepNameValidator, v.null()),
  steps: v.array(v.object({ ...deletionStepValidator.fields, label: v.string() })),
  tombstoneId: v.union(v.id("users"), v.null()),
  wakeAt: v.union(v.number(), v.null()),
});

export function deletionView(r: Doc<"deletionRequests">) {
  const steps = r.steps ?? newSteps();
  return {
    _id: r._id,
    source: r.source,
    status: r.status,
    requestedAt: r.requestedAt,
    requestedBy: r.requestedBy ?? null,
    reason: r.reason ?? null,
    finishedAt: r.finishedAt ?? null,
    current: currentStep(steps)?.name ?? null,
    steps: steps.map((s) => ({ ...s, label: STEP_LABELS[s.name] })),
    tombstoneId: r.tombstoneId ?? null,
    wakeAt: r.wakeAt ?? null,
  };
}

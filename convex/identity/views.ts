// What the dashboard card, the admin identity panel and the Dex API show of an identity row:
// one mapping from the row (phase + steps + facts) through the model's `overallStatus`, so the
// three never disagree.
import { v, type Infer } from "convex/values";
import type { QueryCtx } from "../_generated/server";
import { identityPool } from "../lib/identityPool";
import { nextStep, overallStatus, STEP_LABELS, type StepName, type StepRecord } from "../model/identity/provisioning";
import { identityPhaseValidator, identityStepNameValidator, identityStepValidator, signalStatusValidator } from "../schema/identity";
import { machineOf, type IdentityDoc } from "./lifecycle";

/** Signal's captcha page: the person solves it and pastes the signalcaptcha:// link it opens. */
export const SIGNAL_CAPTCHA_URL = "https://signalcaptchas.org/registration/generate.html";

/** Failed steps the customer may retry from the dashboard (a new Signal registration). */
export const USER_RETRYABLE_STEPS: readonly StepName[] = ["signal_register", "signal_code", "signal_verify"];

export const overallStatusValidator = v.union(
  v.literal("provisioning"),
  v.literal("captcha_needed"),
  v.literal("retry_later"),
  v.literal("failed"),
  v.literal("active"),
  v.literal("suspended"),
  v.literal("deprovisioning"),
  v.literal("awaiting_deletion"),
  v.literal("deprovisioned"),
);

const step = identityStepValidator.fields;

export const stepViewValidator = v.object({
  name: identityStepNameValidator,
  label: v.string(),
  status: step.status,
  waitingFor: step.waitingFor,
  notBefore: step.notBefore,
  lastError: step.lastError,
  startedAt: step.startedAt,
  finishedAt: step.finishedAt,
});

export const featuresValidator = v.object({ email: v.boolean(), phone: v.boolean(), signal: v.boolean() });

export const identityActionValidator = v.union(
  v.null(),
  v.object({ kind: v.literal("captcha"), captchaUrl: v.string() }),
  v.object({ kind: v.literal("retry_after"), notBefore: v.number() }),
  v.object({ kind: v.literal("retry"), step: identityStepNameValidator, message: v.string() }),
);

export const myIdentityValidator = v.object({
  phase: identityPhaseValidator,
  status: overallStatusValidator,
  features: featuresValidator,
  emailAddress: v.union(v.string(), v.null()),
  phoneNumber: v.union(v.string(), v.null()),
  signalStatus: signalStatusValidator,
  steps: v.array(stepViewValidator),
  action: identityActionValidator,
});
export type MyIdentity = Infer<typeof myIdentityValidator>;

function stepView(s: StepRecord): Infer<typeof stepViewValidator> {
  return {
    name: s.name,
    label: STEP_LABELS[s.name],
    status: s.status,
    ...(s.waitingFor !== undefined ? { waitingFor: s.waitingFor } : {}),
    ...(s.notBefore !== undefined ? { notBefore: s.notBefore } : {}),
    ...(s.lastError !== undefined ? { lastError: s.lastError } : {}),
    ...(s.startedAt !== undefined ? { startedAt: s.startedAt } : {}),
    ...(s.finishedAt !== undefined ? { finishedAt: s.finishedAt } : {}),
  };
}

const done = (row: IdentityDoc, name: StepName) => row.steps.some((s) => s.name === name && s.status === "done");

/** The address once the user exists, the number once it is ordered (not a reservation in flight). */
export function factsOf(row: IdentityDoc) {
  const live = row.phase !== "deprovisioned";
  return {
    emailAddress: live && done(row, "workspace_user") ? (row.workspaceEmail ?? null) : null,
    mailboxReady: live && done(row, "mailbox"),
    phoneNumber: live && done(row, "number_order") && !done(row, "number_release") ? (row.phoneNumber ?? null) : null,
    features: {
      email: row.steps.some((s) => s.name === "workspace_user"),
      phone: row.steps.some((s) => s.name === "number_order"),
      signal: row.steps.some((s) => s.name === "signal_register"),
    },
  };
}

const RETRY_MESSAGES: Partial<Record<StepName, string>> = {
  signal_register: "Signal did not accept the registration. Try again to ask for a new code.",
  signal_code: "Signal's SMS code did not arrive. Try again to ask Signal for a new one.",
  signal_verify: "Signal refused the code. Try again to register for a new one.",
};

/** The dashboard card: the current phase's steps, and what (if anything) the person can do. */
export function myIdentityOf(row: IdentityDoc): MyIdentity {
  const machine = machineOf(row);
  const overall = overallStatus(machine);
  const byName = new Map(row.steps.map((s) => [s.name, s]));
  const facts = factsOf(row);
  let action: MyIdentity["action"] = null;
  if (overall.status === "captcha_needed") action = { kind: "captcha", captchaUrl: SIGNAL_CAPTCHA_URL };
  else if (overall.status === "retry_later" && overall.until !== undefined) action = { kind: "retry_after", notBefore: overall.until };
  else if (overall.status === "failed" && overall.step && USER_RETRYABLE_STEPS.includes(overall.step)) {
    action = { kind: "retry", step: overall.step, message: RETRY_MESSAGES[overall.step] ?? "Try this step again." };
  }
  return {
    phase: row.phase,
    status: overall.status,
    features: facts.features,
    emailAddress: facts.emailAddress,
    phoneNumber: facts.phoneNumber,
    signalStatus: row.signalStatus,
    steps: overall.steps.map((s) => stepView(byName.get(s.name) ?? { name: s.name, status: s.status, updatedAt: row.updatedAt })),
    action,
  };
}

export const supportStepValidator = v.object({
  ...stepViewValidator.fields,
  attempts: v.number(),
  workId: step.workId,
});

export const supportIdentityValidator = v.object({
  _id: v.id("identities"),
  phase: identityPhaseValidator,
  status: overallStatusValidator,
  /** The step the status is about (the failed one, the one waiting or in flight). */
  statusStep: v.optional(identityStepNameValidator),
  error: v.optional(v.string()),
  emailAddress: v.union(v.string(), v.null()),
  phoneNumber: v.union(v.string(), v.null()),
  signalStatus: signalStatusValidator,
  createdAt: v.number(),
  activatedAt: v.optional(v.number()),
  canceledAt: v.optional(v.number()),
  deprovisionedAt: v.optional(v.number()),
  /** Every step the row ever had (provisioning, suspension, deprovisioning), in the row's order. */
  steps: v.array(supportStepValidator),
});
export type SupportIdentity = Infer<typeof supportIdentityValidator>;

/** A running step's attempts come from the workpool (its status is the record); others from the row. */
async function attemptsOf(ctx: QueryCtx, s: StepRecord): Promise<number> {
  if (s.status === "running" && s.workId !== undefined) {
    try {
      const status = await identityPool.status(ctx, s.workId as Parameters<typeof identityPool.status>[1]);
      if (status.state !== "finished") return Math.max(s.attempts ?? 0, status.previousAttempts + (status.state === "running" ? 1 : 0));
    } catch {
      // A work id the pool no longer knows: the row's count stands.
    }
  }
  return s.attempts ?? (s.startedAt !== undefined ? 1 : 0);
}

export async function supportIdentityOf(ctx: QueryCtx, row: IdentityDoc): Promise<SupportIdentity> {
  const overall = overallStatus(machineOf(row));
  const facts = factsOf(row);
  const next = nextStep(machineOf(row));
  return {
    _id: row._id,
    phase: row.phase,
    status: overall.status,
    ...(overall.step ? { statusStep: overall.step } : {}),
    ...(overall.error ? { error: overall.error } : next.kind === "blocked" ? { error: next.error } : {}),
    emailAddress: row.workspaceEmail ?? null,
    phoneNumber: row.phoneNumber ?? facts.phoneNumber,
    signalStatus: row.signalStatus,
    createdAt: row.createdAt,
    ...(row.activatedAt !== undefined ? { activatedAt: row.activatedAt } : {}),
    ...(row.canceledAt !== undefined ? { canceledAt: row.canceledAt } : {}),
    ...(row.deprovisionedAt !== undefined ? { deprovisionedAt: row.deprovisionedAt } : {}),
    steps: await Promise.all(
      row.steps.map(async (s) => ({ ...stepView(s), attempts: await attemptsOf(ctx, s), ...(s.workId !== undefined ? { workId: s.workId } : {}) })),
    ),
  };
}

// What support (the admin console) and the admin CLI can do to an account's identity, each with
// a reason in the audit log (target: the account, so the account page's audit trail shows it):
// re-run a failed step, provision by hand, force deprovisioning. The model decides what is
// legal; an illegal request is a clear ILLEGAL_TRANSITION.
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";
import { type Actor, audit } from "../lib/audit";
import { CAPABILITIES } from "../model/accounts/accountState";
import { planHasIdentity, STEP_LABELS, type StepName } from "../model/identity/provisioning";
import { advance, applyRequested, createIdentity, deprovision, identitiesOf, identityError, liveIdentity, provisioningEnabled } from "./lifecycle";

export function requireReason(reason: string): string {
  const r = reason.trim();
  if (r.length < 3) identityError("INVALID_ARGUMENT", "Give a reason (at least 3 characters); it goes in the audit log.");
  return r.slice(0, 500);
}

/** Re-runs a failed step (or one whose Signal lockout is over) on the newest identity still being worked on. */
export async function rerunStep(ctx: MutationCtx, user: Doc<"users">, step: StepName, actor: Actor, reason: string): Promise<Id<"identities">> {
  const why = requireReason(reason);
  const row = (await identitiesOf(ctx, user._id)).find((r) => r.phase !== "deprovisioned" && r.steps.some((s) => s.name === step));
  if (row === undefined) identityError("NOT_FOUND", `${user.email} has no identity with the step "${STEP_LABELS[step]}" to re-run.`);
  await applyRequested(ctx, row, { type: "retry_step", step, at: Date.now() });
  await audit(ctx, actor, "identity.step_rerun", { type: "user", id: user._id }, why, { identityId: row._id, step });
  await advance(ctx, row._id);
  return row._id;
}

/** Starts a fresh identity by hand (the account must be on a paid plan in a state that keeps one). */
export async function provisionByHand(ctx: MutationCtx, user: Doc<"users">, actor: Actor, reason: string): Promise<Id<"identities">> {
  const why = requireReason(reason);
  const live = await liveIdentity(ctx, user._id);
  if (live !== null) identityError("CONFLICT", `${user.email} already has an identity (${live.phase}). Re-run its failed step instead, or force deprovisioning first.`);
  if (!planHasIdentity(user.plan)) identityError("ILLEGAL_TRANSITION", `${user.email} is on the ${user.plan} plan, which includes no identity. Put the account on Basic or Pro first.`);
  if (!CAPABILITIES[user.state].keepIdentity) identityError("ILLEGAL_TRANSITION", `${user.email} is ${user.state}: only an active, past-due or suspended account keeps an identity.`);
  if (!provisioningEnabled()) {
    identityError("NOT_CONFIGURED", "No identity provider is configured on this deployment (GOOGLE_*, TELNYX_*, SIGNAL_CLI_URL).");
  }
  const identityId = await createIdentity(ctx, user, actor, why);
  await audit(ctx, actor, "identity.provisioned_by_hand", { type: "user", id: user._id }, why, { identityId });
  return identityId;
}

/** Deprovisions the live identity now, whatever the account's state (Signal, number, Workspace after retention). */
export async function forceDeprovision(ctx: MutationCtx, user: Doc<"users">, actor: Actor, reason: string): Promise<Id<"identities">> {
  const why = requireReason(reason);
  const live = await liveIdentity(ctx, user._id);
  if (live === null) identityError("NOT_FOUND", `${user.email} has no live identity to deprovision.`);
  await deprovision(ctx, live, actor, why);
  await audit(ctx, actor, "identity.deprovision_forced", { type: "user", id: user._id }, why, { identityId: live._id });
  return live._id;
}

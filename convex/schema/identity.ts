// Identity provisioning, for the identity issue (#10): a Workspace mailbox, a Telnyx number and a
// Signal registration per paid account. The row stores the state machine of
// model/identity/provisioning.ts (`phase` + `steps`, changed only through `applyStepEvent`) and
// the facts the steps produced. Each running step is one identityPool workpool run referenced by
// its `workId`: the workpool's status is the record of attempts and backoff (no counters here).
// An account may have older rows still deprovisioning; the live identity is its newest row.
import { defineTable } from "convex/server";
import { type Infer, v } from "convex/values";
import type { Phase, StepName, StepRecord, SignalStatus } from "../model/identity/provisioning";

export const identityPhaseValidator = v.union(
  v.literal("provisioning"),
  v.literal("active"),
  v.literal("suspended"),
  v.literal("deprovisioning"),
  v.literal("deprovisioned"),
);

export const identityStepNameValidator = v.union(
  v.literal("workspace_user"),
  v.literal("mailbox"),
  v.literal("number_order"),
  v.literal("messaging_profile"),
  v.literal("signal_register"),
  v.literal("signal_code"),
  v.literal("signal_verify"),
  v.literal("workspace_suspend"),
  v.literal("workspace_restore"),
  v.literal("signal_unregister"),
  v.literal("number_release"),
  v.literal("workspace_delete"),
);

export const identityStepValidator = v.object({
  name: identityStepNameValidator,
  status: v.union(
    v.literal("pending"),
    v.literal("running"),
    v.literal("waiting"),
    v.literal("done"),
    v.literal("failed"),
    v.literal("skipped"),
  ),
  workId: v.optional(v.string()),
  waitingFor: v.optional(v.union(v.literal("captcha"), v.literal("sms_code"), v.literal("retry_after"))),
  notBefore: v.optional(v.number()),
  lastError: v.optional(v.string()),
  attempts: v.optional(v.number()),
  startedAt: v.optional(v.number()),
  finishedAt: v.optional(v.number()),
  updatedAt: v.number(),
});

export const signalStatusValidator = v.union(
  v.literal("none"),
  v.literal("unregistered"),
  v.literal("registering"),
  v.literal("captcha_needed"),
  v.literal("awaiting_code"),
  v.literal("verified"),
  v.literal("failed"),
);

// The validators and the model's types must describe the same values, both ways.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const agree: [
  Same<Infer<typeof identityPhaseValidator>, Phase>,
  Same<Infer<typeof identityStepNameValidator>, StepName>,
  Same<Infer<typeof identityStepValidator>, StepRecord>,
  Same<Infer<typeof signalStatusValidator>, SignalStatus>,
] = [true, true, true, true];
void agree;

export const identityTables = {
  identities: defineTable({
    userId: v.id("users"),
    phase: identityPhaseValidator,
    steps: v.array(identityStepValidator),
    /** Written with the steps from `signalStatus` (the Dex API and the keep-alive cron read it). */
    signalStatus: signalStatusValidator,
    // Google Workspace: dex-<short id>@WORKSPACE_DOMAIN and the Directory user's id. The
    // generated password is never stored in plain text (AES-GCM with ENCRYPTION_KEY, or not at all).
    workspaceEmail: v.optional(v.string()),
    workspaceUserId: v.optional(v.string()),
    workspacePasswordEncrypted: v.optional(v.string()),
    // Telnyx: the number (E.164), its id, the order (customer_reference = account id) and the
    // messaging profile it was assigned.
    phoneNumber: v.optional(v.string()),
    telnyxNumberId: v.optional(v.string()),
    telnyxOrderId: v.optional(v.string()),
    telnyxMessagingProfileId: v.optional(v.string()),
    // Signal's SMS code between the Telnyx webhook and the verification, sealed (AES-GCM with
    // ENCRYPTION_KEY, model/identity/secrets.ts); cleared when a registration starts or verifies.
    signalCodeSealed: v.optional(v.string()),
    signalCodeReceivedAt: v.optional(v.number()),
    /** When the runner is next due without an outside event (code timeout, deletion after retention). */
    wakeAt: v.optional(v.number()),
    createdAt: v.number(),
    activatedAt: v.optional(v.number()),
    canceledAt: v.optional(v.number()),
    deprovisionedAt: v.optional(v.number()),
    updatedAt: v.number(),
  })
    .index("by_userId", ["userId"])
    // A new address is checked against every identity's, old ones included.
    .index("by_workspaceEmail", ["workspaceEmail"])
    // The Telnyx webhook matches an inbound SMS by its `to` number.
    .index("by_phoneNumber", ["phoneNumber"])
    .index("by_signalStatus", ["signalStatus"])
    .index("by_phase", ["phase"]),

  // SMS to an identity's number that are not Signal's code, kept 30 days (retention cron).
  incomingSms: defineTable({
    to: v.string(),
    from: v.string(),
    text: v.string(),
    providerMessageId: v.string(),
    receivedAt: v.number(),
    userId: v.optional(v.id("users")),
    identityId: v.optional(v.id("identities")),
  })
    .index("by_to_and_receivedAt", ["to", "receivedAt"])
    .index("by_userId_and_receivedAt", ["userId", "receivedAt"])
    .index("by_providerMessageId", ["providerMessageId"])
    .index("by_receivedAt", ["receivedAt"]),

  // Signal messages the keep-alive receive picked up (signal-cli hands each out once), for the
  // Dex API to read; kept 30 days like SMS.
  signalMessages: defineTable({
    userId: v.id("users"),
    identityId: v.id("identities"),
    /** Our number (the account that received it). */
    number: v.string(),
    source: v.string(),
    message: v.string(),
    /** Signal's timestamp (ms), unique per sender. */
    sentAt: v.number(),
    receivedAt: v.number(),
  })
    .index("by_userId_and_receivedAt", ["userId", "receivedAt"])
    .index("by_identityId_and_source_and_sentAt", ["identityId", "source", "sentAt"])
    .index("by_receivedAt", ["receivedAt"]),
};

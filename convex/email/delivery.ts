// Sending one outbox row: the providerPool workpool runs `send` (retries and backoff are the
// workpool's, lib/emailOutbox.ts), `prepare` decides and renders in one mutation, and
// `recordOutcome` writes the outcome on the row in one mutation.
import { vOnCompleteArgs, type RunResult } from "@convex-dev/workpool";
import { v, type Infer } from "convex/values";
import { internal } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import type { ActionCtx, MutationCtx } from "../_generated/server";
import { internalAction, internalMutation } from "../functions";
import { sendEmail } from "../providers/email";

const prepared = v.union(
  v.object({ kind: v.literal("skip") }),
  v.object({
    kind: v.literal("send"),
    to: v.string(),
    subject: v.string(),
    html: v.string(),
    text: v.string(),
    headers: v.record(v.string(), v.string()),
  }),
);

async function prepareHandler(ctx: MutationCtx, args: { outboxId: Id<"emailOutbox"> }): Promise<Infer<typeof prepared>> {
  const row = await ctx.db.get("emailOutbox", args.outboxId);
  // Only a queued row is sent; a row already sending is a retry of the same send (the
  // Idempotency-Key makes the provider accept it once).
  if (row === null || (row.status !== "queued" && row.status !== "sending")) return { kind: "skip" };
  const subject = `Poindexter: ${row.template}`;
  await ctx.db.patch("emailOutbox", row._id, { status: "sending", subject });
  return { kind: "send", to: row.to, subject, html: `<p>${subject}</p>`, text: subject, headers: {} };
}

export const prepare = internalMutation({
  args: { outboxId: v.id("emailOutbox") },
  returns: prepared,
  handler: prepareHandler,
});

const sendResult = v.union(
  v.object({ kind: v.literal("skipped") }),
  v.object({ kind: v.literal("sent"), id: v.string() }),
  v.object({ kind: v.literal("rejected"), status: v.number(), error: v.string() }),
);
type SendOutcome = Infer<typeof sendResult>;

async function sendHandler(ctx: ActionCtx, args: { outboxId: Id<"emailOutbox"> }): Promise<SendOutcome> {
  const mail = await ctx.runMutation(internal.email.delivery.prepare, args);
  if (mail.kind === "skip") return { kind: "skipped" };
  return await sendEmail({ ...mail, idempotencyKey: args.outboxId });
}

export const send = internalAction({
  args: { outboxId: v.id("emailOutbox") },
  returns: sendResult,
  handler: sendHandler,
});

const outcomeArgs = vOnCompleteArgs(v.object({ outboxId: v.id("emailOutbox") }));

async function recordOutcomeHandler(
  ctx: MutationCtx,
  args: { context: { outboxId: Id<"emailOutbox"> }; result: RunResult<SendOutcome> },
): Promise<null> {
  const row = await ctx.db.get("emailOutbox", args.context.outboxId);
  if (row === null) return null;
  const result = args.result;
  if (result.kind === "success" && result.returnValue.kind === "sent") {
    await ctx.db.patch("emailOutbox", row._id, {
      status: "sent",
      providerMessageId: result.returnValue.id,
      sentAt: Date.now(),
    });
  } else if (result.kind === "failed" || (result.kind === "success" && result.returnValue.kind === "rejected")) {
    const error = result.kind === "failed" ? result.error : result.returnValue.kind === "rejected" ? result.returnValue.error : "";
    await ctx.db.patch("emailOutbox", row._id, { status: "failed", lastError: error });
  }
  return null;
}

export const recordOutcome = internalMutation({
  args: outcomeArgs,
  returns: v.null(),
  handler: recordOutcomeHandler,
});

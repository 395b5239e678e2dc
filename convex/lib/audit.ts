// The audit trail: every change made to an account by someone (the customer, support, an
// admin, the CLI, Dex) writes one auditLogs row in the same transaction as the change.
import type { Id } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";

export interface Actor {
  id?: Id<"users">;
  label: string;
}

export function actorOf(user: { _id: Id<"users">; email: string }): Actor {
  return { id: user._id, label: user.email };
}

/** Changes made by the admin CLI (admin key; no signed-in person). */
export const CLI_ACTOR: Actor = { label: "cli" };

export async function audit(
  ctx: MutationCtx,
  actor: Actor,
  action: string,
  target: { type: string; id: string },
  reason?: string,
  metadata?: Record<string, string | number | boolean | null>,
): Promise<void> {
  await ctx.db.insert("auditLogs", {
    actorId: actor.id,
    actorLabel: actor.label,
    action,
    targetType: target.type,
    targetId: target.id,
    reason,
    metadata,
    at: Date.now(),
  });
}

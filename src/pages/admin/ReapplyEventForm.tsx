import { useMutation } from "convex/react";
import { api } from "../../../convex/_generated/api";
import type { BillingEventRow, BillingProvider } from "../../lib/billing";
import { ActionForm } from "./ActionForm";

/** The event someone in support picked to re-apply. */
export type ReapplyTarget = Pick<BillingEventRow, "provider" | "eventId" | "type">;

/**
 * Re-applies one failed billing event (`billing.support.reapplyEvent`), with a reason for the
 * audit log. The backend applies the event's recorded fact as its webhook did, so an event whose
 * cause is not fixed yet fails again, and the form says so.
 */
export function ReapplyEventForm({ target, onClose }: { target: ReapplyTarget; onClose: () => void }) {
  const reapply = useMutation(api.billing.support.reapplyEvent);
  return (
    <div className="reapply-box" data-testid="reapply-form">
      <ActionForm
        legend={`Re-apply ${target.type} (${target.eventId})`}
        submitLabel="Re-apply"
        reasonId={`reapply-reason-${target.eventId}`}
        onSubmit={async (reason) => {
          const result = await reapply({ provider: target.provider as BillingProvider, eventId: target.eventId, reason });
          return result.status === "failed"
            ? `Re-applied, but it failed again: ${result.outcome}. Fix the cause, then re-apply it once more.`
            : `Re-applied: ${result.status} (${result.outcome}).`;
        }}
      />
      <button type="button" className="button button-small" onClick={onClose}>
        Close
      </button>
    </div>
  );
}

/** The "Re-apply…" button of a failed event's row. */
export function ReapplyButton({ event, onPick }: { event: BillingEventRow; onPick: (target: ReapplyTarget) => void }) {
  if (event.status !== "failed") return null;
  return (
    <button
      type="button"
      className="button button-small"
      onClick={() => onPick({ provider: event.provider, eventId: event.eventId, type: event.type })}
      aria-label={`Re-apply ${event.type} ${event.eventId}`}
    >
      Re-apply…
    </button>
  );
}

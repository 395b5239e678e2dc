import { useMutation, useQuery } from "convex/react";
import { useState } from "react";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { describeError } from "../lib/errors";
import { RelativeTime } from "./RelativeTime";

/** Undismissed in-app notices (quota thresholds, payment problems), newest first. */
export function AlertList() {
  const mine = useQuery(api.usage.alerts.mine, {});
  const dismiss = useMutation(api.usage.alerts.dismiss);
  const [pending, setPending] = useState<Id<"alerts"> | null>(null);
  const [error, setError] = useState<string | null>(null);

  // Loading and "no alerts" both render nothing: notices should not take space when quiet.
  if (mine === undefined || mine.length === 0) return null;

  async function onDismiss(alertId: Id<"alerts">) {
    setPending(alertId);
    setError(null);
    try {
      await dismiss({ alertId });
    } catch (err) {
      setError(describeError(err).message);
    } finally {
      setPending(null);
    }
  }

  return (
    <section className="alerts" aria-label="Notices">
      {error && (
        <p className="notice notice-critical notice-compact" role="alert">
          {error}
        </p>
      )}
      <ul>
        {mine.map((a) => (
          <li key={a._id} className={`notice notice-${a.severity} alert-item`} data-testid="alert">
            <div>
              <p data-testid="alert-message">{a.message}</p>
              <p className="notice-meta">
                <RelativeTime at={a.at} />
              </p>
            </div>
            <button
              type="button"
              className="button button-small"
              onClick={() => void onDismiss(a._id)}
              disabled={pending === a._id}
              aria-label={`Dismiss: ${a.message}`}
            >
              {pending === a._id ? "Dismissing…" : "Dismiss"}
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

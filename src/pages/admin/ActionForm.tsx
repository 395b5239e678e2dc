import { useState, type FormEvent, type ReactNode } from "react";
import { ErrorNotice } from "../../components/ErrorNotice";
import { useAsyncAction } from "../../lib/useAsyncAction";

/**
 * One staff action on an account: its own fields (children), a required reason that goes
 * to the audit log, and a submit that runs the action and reports the outcome inline.
 * `onSubmit` gets the trimmed reason and resolves to the success message; the reason is
 * cleared only after a success, so a refused action can be retried without retyping it.
 */
export function ActionForm({
  legend,
  submitLabel,
  danger = false,
  reasonId,
  onSubmit,
  children,
}: {
  legend: string;
  submitLabel: string;
  danger?: boolean;
  reasonId: string;
  onSubmit: (reason: string) => Promise<string>;
  children?: ReactNode;
}) {
  const [reason, setReason] = useState("");
  const [done, setDone] = useState<string | null>(null);
  const { pending, error, run } = useAsyncAction();

  async function submit(event: FormEvent) {
    event.preventDefault();
    setDone(null);
    await run(async () => {
      setDone(await onSubmit(reason.trim()));
      setReason("");
    });
  }

  return (
    <form className="action-form" onSubmit={submit}>
      <fieldset disabled={pending}>
        <legend>{legend}</legend>
        <div className="action-fields">
          {children}
          <div className="field field-grow">
            <label htmlFor={reasonId}>Reason</label>
            <input
              id={reasonId}
              required
              value={reason}
              onChange={(e) => setReason(e.target.value)}
              placeholder="Shown in the audit log"
            />
          </div>
          <button type="submit" className={`button ${danger ? "button-danger-solid" : "button-primary"}`}>
            {pending ? "Saving…" : submitLabel}
          </button>
        </div>
      </fieldset>
      {error !== null && <ErrorNotice error={error} compact />}
      {done && (
        <p className="notice notice-success notice-compact" role="status">
          {done}
        </p>
      )}
    </form>
  );
}

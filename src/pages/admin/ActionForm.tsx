import { useState, type FormEvent, type ReactNode } from "react";
import { ErrorNotice } from "../../components/ErrorNotice";
import { TextField } from "../../components/TextField";
import { SelectField } from "./SelectField";
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
          <TextField
            id={reasonId}
            label="Reason"
            required
            value={reason}
            onChange={setReason}
            placeholder="Shown in the audit log"
            grow
          />
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

/**
 * A staff action that puts the account on one of a fixed set of values, named by `what`
 * ("plan", "role"): "Change plan", a "Plan" choice marking the current value, the reason,
 * "Set plan", then "Plan set to Basic." once `onSubmit(choice, reason)` resolves.
 * Its fields are `${what}-choice` and `${what}-reason`.
 */
export function ChoiceActionForm<T extends string>({
  what,
  choices,
  current,
  initial = current,
  describe = (choice) => choice,
  onSubmit,
}: {
  what: string;
  choices: readonly T[];
  current: T;
  /** The choice the form starts on; the current value unless that is a poor default. */
  initial?: T;
  describe?: (choice: T) => string;
  onSubmit: (choice: T, reason: string) => Promise<unknown>;
}) {
  const [choice, setChoice] = useState<T>(initial);
  const label = what.charAt(0).toUpperCase() + what.slice(1);
  return (
    <ActionForm
      legend={`Change ${what}`}
      submitLabel={`Set ${what}`}
      reasonId={`${what}-reason`}
      onSubmit={async (reason) => {
        await onSubmit(choice, reason);
        return `${label} set to ${describe(choice)}.`;
      }}
    >
      <SelectField
        id={`${what}-choice`}
        label={label}
        choices={choices}
        current={current}
        value={choice}
        onChange={setChoice}
        describe={describe}
      />
    </ActionForm>
  );
}

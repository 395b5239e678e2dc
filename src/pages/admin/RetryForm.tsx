import { ActionForm } from "./ActionForm";

/**
 * The retry box under a background-work list: what is being retried, a required reason (it goes
 * in the audit log), and the outcome inline. `onRetry` gets the reason and resolves to the
 * success message.
 */
export function RetryForm({
  what,
  id,
  onRetry,
  onClose,
}: {
  what: string;
  id: string;
  onRetry: (reason: string) => Promise<string>;
  onClose: () => void;
}) {
  return (
    <div className="reapply-box" data-testid="retry-form">
      <ActionForm legend={`Retry ${what}`} submitLabel="Retry" reasonId={`retry-reason-${id}`} onSubmit={onRetry} />
      <button type="button" className="button button-small" onClick={onClose}>
        Close
      </button>
    </div>
  );
}

import type { ReactNode } from "react";
import { useAsyncAction } from "../lib/useAsyncAction";
import { Dialog } from "./Dialog";
import { ErrorNotice } from "./ErrorNotice";

/**
 * A modal that asks before one consequential call. While the call runs both buttons are
 * disabled and Escape is ignored, so the outcome is never hidden; a failure stays in the
 * dialog (with the server's message) and is forgotten when it is dismissed. `onConfirm`
 * decides what success means, typically closing the dialog through the owner's state.
 */
export function ConfirmDialog({
  open,
  title,
  confirmLabel,
  pendingLabel,
  tone = "primary",
  onConfirm,
  onClose,
  children,
  testId,
}: {
  open: boolean;
  title: string;
  confirmLabel: string;
  pendingLabel: string;
  tone?: "primary" | "danger";
  onConfirm: () => Promise<void>;
  onClose: () => void;
  children: ReactNode;
  testId?: string;
}) {
  const { pending, error, run, clearError } = useAsyncAction();

  function close() {
    if (pending) return;
    clearError();
    onClose();
  }

  return (
    <Dialog
      open={open}
      title={title}
      onClose={close}
      testId={testId}
      footer={
        <>
          <button type="button" className="button" onClick={close} disabled={pending}>
            Cancel
          </button>
          <button
            type="button"
            className={`button ${tone === "danger" ? "button-danger-solid" : "button-primary"}`}
            onClick={() => void run(onConfirm)}
            disabled={pending}
          >
            {pending ? pendingLabel : confirmLabel}
          </button>
        </>
      }
    >
      {children}
      {error !== null && <ErrorNotice error={error} compact />}
    </Dialog>
  );
}

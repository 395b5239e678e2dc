import { describeError } from "../lib/errors";

const TITLES: Record<string, string> = {
  FORBIDDEN: "You don't have access to this",
  UNAUTHENTICATED: "You are signed out",
  NOT_FOUND: "Not found",
  ACCOUNT_NOT_FOUND: "Your account is not ready",
  RATE_LIMITED: "Slow down a little",
  ILLEGAL_TRANSITION: "That change is not possible right now",
  INVALID_ARGUMENT: "Check what you entered",
  CONFLICT: "That clashes with something else",
  BILLING_NOT_CONFIGURED: "Billing is not set up on this deployment",
  BILLING_PROVIDER_ERROR: "The payment provider did not answer",
};

/** A thrown error, shown with the server's own message (ConvexError `data.message`). */
export function ErrorNotice({
  error,
  onRetry,
  compact = false,
}: {
  error: unknown;
  onRetry?: () => void;
  compact?: boolean;
}) {
  const { code, message } = describeError(error);
  const title = (code && TITLES[code]) || "Something went wrong";
  return (
    <div className={`notice notice-critical${compact ? " notice-compact" : ""}`} role="alert" data-testid="error-notice">
      {!compact && <p className="notice-title">{title}</p>}
      <p>{message}</p>
      {onRetry && (
        <button type="button" className="button button-small" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

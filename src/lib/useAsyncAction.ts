import { useCallback, useState } from "react";

/**
 * Pending and error state for one user-started call (a form submit, a dialog's confirm).
 * `run` resolves to whether the call succeeded, so the caller never has to catch: the
 * failure is kept in `error` for an ErrorNotice until the next run or `clearError`.
 */
export function useAsyncAction(): {
  pending: boolean;
  error: unknown;
  run: (action: () => Promise<void>) => Promise<boolean>;
  clearError: () => void;
} {
  const [pending, setPending] = useState(false);
  // `null` means "no error": anything thrown, ConvexError or not, is kept as is.
  const [error, setError] = useState<unknown>(null);

  const run = useCallback(async (action: () => Promise<void>) => {
    setPending(true);
    setError(null);
    try {
      await action();
      return true;
    } catch (err) {
      setError(err);
      return false;
    } finally {
      setPending(false);
    }
  }, []);

  const clearError = useCallback(() => setError(null), []);

  return { pending, error, run, clearError };
}

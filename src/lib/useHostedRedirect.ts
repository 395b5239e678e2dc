import { useAction } from "convex/react";
import { useCallback, useEffect, useState } from "react";
import { api } from "../../convex/_generated/api";
import type { PlanId } from "./plans";

/** Where a click leads: a plan's hosted checkout, or the provider's billing portal. */
export type HostedTarget = Exclude<PlanId, "trial"> | "portal";

/**
 * "Choose Basic" and "Manage billing": each click asks the backend for a fresh hosted session
 * (`billing.checkout.start`, `billing.portal.open`) and sends the window there. The session URL
 * goes to the browser and nowhere else: it is not kept in state, stored or logged, since a
 * portal link grants access to the customer's billing. While the window is leaving, the target
 * stays pending so a second click cannot start a second session.
 */
export function useHostedRedirect(): {
  pending: HostedTarget | null;
  error: { target: HostedTarget; error: unknown } | null;
  go: (target: HostedTarget) => void;
  clearError: () => void;
} {
  const startCheckout = useAction(api.billing.checkout.start);
  const openPortal = useAction(api.billing.portal.open);
  const [pending, setPending] = useState<HostedTarget | null>(null);
  const [error, setError] = useState<{ target: HostedTarget; error: unknown } | null>(null);

  // Back from the provider's page through the browser's cache: the page is live again.
  useEffect(() => {
    const onShow = (event: PageTransitionEvent) => {
      if (event.persisted) setPending(null);
    };
    window.addEventListener("pageshow", onShow);
    return () => window.removeEventListener("pageshow", onShow);
  }, []);

  const go = useCallback(
    (target: HostedTarget) => {
      setPending(target);
      setError(null);
      const session = target === "portal" ? openPortal({}) : startCheckout({ plan: target });
      session.then(
        ({ url }) => window.location.assign(url),
        (err: unknown) => {
          setError({ target, error: err });
          setPending(null);
        },
      );
    },
    [openPortal, startCheckout],
  );

  const clearError = useCallback(() => setError(null), []);
  return { pending, error, go, clearError };
}

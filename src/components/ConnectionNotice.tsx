import { useConvexConnectionState } from "convex/react";
import { useEffect, useState } from "react";
import { CLERK_PUBLISHABLE_KEY, CONVEX_URL } from "../config";

/** How long a dropped connection may last before we say so: brief blips are normal. */
const GRACE_MS = 3_000;

/**
 * Everything on screen is a live subscription; when the connection drops, the numbers
 * silently stop updating. Say so, so nobody acts on a stale meter or account state.
 */
export function ConnectionNotice() {
  const { isWebSocketConnected, hasEverConnected } = useConvexConnectionState();
  const [showing, setShowing] = useState(false);

  useEffect(() => {
    if (isWebSocketConnected) {
      setShowing(false);
      return;
    }
    const id = window.setTimeout(() => setShowing(true), GRACE_MS);
    return () => window.clearTimeout(id);
  }, [isWebSocketConnected]);

  if (!showing || isWebSocketConnected) return null;
  return (
    <p className="notice notice-warning connection-notice" role="status" data-testid="connection-notice">
      {hasEverConnected
        ? "Connection lost; reconnecting. What you see may be out of date until it is back."
        : `Cannot reach the backend at ${CONVEX_URL}; still trying.${
            CLERK_PUBLISHABLE_KEY ? "" : " Is it running (npm run dev)?"
          }`}
    </p>
  );
}

import { useEffect, useState } from "react";

/**
 * The current time, refreshed on an interval, for relative times ("5 minutes ago")
 * and countdowns. A local clock tick; data itself comes from live subscriptions.
 */
export function useNow(intervalMs = 30_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const id = window.setInterval(() => setNow(Date.now()), intervalMs);
    return () => window.clearInterval(id);
  }, [intervalMs]);
  return now;
}

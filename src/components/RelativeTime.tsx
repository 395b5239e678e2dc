import { formatDateTime, formatRelative } from "../lib/format";
import { useNow } from "../lib/useNow";

/** "5 minutes ago", with the exact time on hover and for screen readers. */
export function RelativeTime({ at }: { at: number }) {
  const now = useNow();
  return (
    <time dateTime={new Date(at).toISOString()} title={formatDateTime(at)}>
      {formatRelative(at, now)}
    </time>
  );
}

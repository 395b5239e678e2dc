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

/** A table cell's time: "5 minutes ago", with the exact date and time on the line under it. */
export function RelativeTimeWithDate({ at }: { at: number }) {
  return (
    <>
      <RelativeTime at={at} />
      <span className="cell-sub muted">{formatDateTime(at)}</span>
    </>
  );
}

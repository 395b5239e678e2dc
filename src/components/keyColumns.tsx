// Columns of a key listing, shared by the customer's keys page and the support console, so a
// key reads the same in both.
import { formatDateTime, formatRelative } from "../lib/format";
import { keyEndsAt, type KeyLine } from "../lib/keyLines";
import { Badge } from "./Badge";
import type { Column } from "./DataTable";
import { KeyStatusBadge } from "./KeyStatusBadge";
import { RelativeTime } from "./RelativeTime";

function StatusCell({ line: { key, status }, now }: { line: KeyLine; now: number }) {
  const endsAt = keyEndsAt(key);
  const when = endsAt === undefined ? null : formatRelative(endsAt, now);
  // A suspended key (anomaly policy) is refused by the proxy until support restores it.
  if (key.suspendedAt !== undefined && status !== "revoked") {
    return (
      <>
        <Badge tone="critical" testId="key-status">
          Suspended
        </Badge>
        <span className="muted cell-sub" data-testid="key-suspended-reason">
          {key.suspendedReason ?? "Suspended."} Contact support to restore it, or create a new key.
        </span>
      </>
    );
  }
  return (
    <>
      <KeyStatusBadge status={status} />
      {endsAt !== undefined && (
        <span className="muted cell-sub" title={formatDateTime(endsAt)}>
          {status === "revoked" ? when : status === "grace" ? `stops ${when}` : `expires ${when}`}
        </span>
      )}
    </>
  );
}

/** The columns both listings show; `now` moves statuses and "stops in…" along with the clock. */
export function keyColumns(now: number) {
  return {
    name: { header: "Name", cell: ({ key }) => key.name },
    prefix: { header: "Key", cell: ({ key }) => <code>{key.prefix}…</code> },
    created: { header: "Created", cell: ({ key }) => <RelativeTime at={key.createdAt} /> },
    lastUsed: {
      header: "Last used",
      cell: ({ key }) =>
        key.lastUsedAt === undefined ? (
          <span className="muted">Never</span>
        ) : (
          <>
            <RelativeTime at={key.lastUsedAt} />
            {key.lastUsedIp && <span className="muted cell-sub">from {key.lastUsedIp}</span>}
          </>
        ),
    },
    status: { header: "Status", cell: (line) => <StatusCell line={line} now={now} /> },
  } satisfies Record<string, Column<KeyLine>>;
}

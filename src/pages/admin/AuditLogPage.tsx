import type { FunctionReturnType } from "convex/server";
import { Link, useSearchParams } from "react-router";
import { api } from "../../../convex/_generated/api";
import { PageHeader } from "../../components/PageHeader";
import { Card } from "../../components/Card";
import type { Column } from "../../components/DataTable";
import { PaginatedTable, usePages } from "../../components/PaginatedTable";
import { TextField } from "../../components/TextField";
import { RelativeTime } from "../../components/RelativeTime";
import { formatDateTime } from "../../lib/format";
import { useDebounced } from "../../lib/useDebounced";

type AuditRow = FunctionReturnType<typeof api.admin.auditLog.search>["page"][number];

const PAGE_SIZE = 50;
const DAY_MS = 86_400_000;

const columns: readonly Column<AuditRow>[] = [
  { header: "When", cell: (a) => <span title={formatDateTime(a.at)}><RelativeTime at={a.at} /></span> },
  { header: "Actor", cell: (a) => a.actorLabel },
  { header: "Action", cell: (a) => <code>{a.action}</code> },
  {
    header: "Target",
    cell: (a) =>
      a.targetType === "user" ? (
        <Link to={`/admin/accounts/${a.targetId}`}>{a.targetId}</Link>
      ) : (
        <>
          <span className="muted">{a.targetType}</span> <code>{a.targetId}</code>
        </>
      ),
  },
  {
    header: "Reason and details",
    cell: (a) => (
      <>
        {a.reason ? <span>“{a.reason}”</span> : <span className="muted">—</span>}
        {a.metadata && Object.keys(a.metadata).length > 0 && (
          <span className="cell-sub muted">
            {Object.entries(a.metadata)
              .map(([k, v]) => `${k}: ${String(v)}`)
              .join(" · ")}
          </span>
        )}
      </>
    ),
  },
];

/** "2026-11-20" (a date input's value) as the UTC day's first or last millisecond. */
function dayBound(value: string, end: boolean): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return undefined;
  const start = Date.parse(`${value}T00:00:00Z`);
  return Number.isNaN(start) ? undefined : end ? start + DAY_MS - 1 : start;
}

/**
 * The audit log, searchable by target id (an account, a key, an admin key), actor (an email,
 * "cli", "stripe"…), action and a range of days (UTC), newest first. The terms are exact matches
 * and live in the URL, so a search can be shared.
 */
export function AuditLogPage() {
  const [params, setParams] = useSearchParams();
  const value = (key: string) => params.get(key) ?? "";
  const set = (key: string, next: string) => {
    const updated = new URLSearchParams(params);
    if (next) updated.set(key, next);
    else updated.delete(key);
    setParams(updated, { replace: true });
  };
  const targetId = useDebounced(value("target").trim());
  const actor = useDebounced(value("actor").trim());
  const action = useDebounced(value("action").trim());
  const from = dayBound(value("from"), false);
  const to = dayBound(value("to"), true);
  const backwards = from !== undefined && to !== undefined && from > to;
  const args = {
    ...(targetId ? { targetId } : {}),
    ...(actor ? { actor } : {}),
    ...(action ? { action } : {}),
    ...(from !== undefined ? { from } : {}),
    ...(to !== undefined && !backwards ? { to } : {}),
  };
  const page = usePages(api.admin.auditLog.search, args, PAGE_SIZE);
  const filtered = Object.keys(args).length > 0;

  return (
    <div className="page">
      <PageHeader title="Audit log" description="Every change to an account, a key or a setting: who, what, when and why. Newest first." />
      <Card>
        <form className="inline-form" role="search" onSubmit={(e) => e.preventDefault()} data-testid="audit-filters">
          <TextField id="audit-target" label="Target id" value={value("target")} onChange={(v) => set("target", v)} placeholder="an account or key id" autoComplete="off" grow />
          <TextField id="audit-actor" label="Actor" value={value("actor")} onChange={(v) => set("actor", v)} placeholder="agent@… or stripe" autoComplete="off" />
          <TextField id="audit-action" label="Action" value={value("action")} onChange={(v) => set("action", v)} placeholder="account.suspended" autoComplete="off" />
          <TextField id="audit-from" label="From (UTC)" type="date" value={value("from")} onChange={(v) => set("from", v)} />
          <TextField id="audit-to" label="To (UTC)" type="date" value={value("to")} onChange={(v) => set("to", v)} />
        </form>
        {backwards && (
          <p className="notice notice-warning notice-compact" role="alert">
            “From” is after “To”: the end of the range is ignored until it is fixed.
          </p>
        )}
        <PaginatedTable
          columns={columns}
          page={page}
          loadingLabel="Searching the audit log…"
          empty={
            filtered
              ? {
                  title: "Nothing recorded matches",
                  body: "Target, actor and action match exactly (an action looks like account.suspended).",
                  action: (
                    <button type="button" className="button button-small" onClick={() => setParams({}, { replace: true })}>
                      Clear the search
                    </button>
                  ),
                }
              : { title: "Nothing recorded yet" }
          }
          caption="Audit log entries, newest first"
          testId="audit-results"
          rowTestId="audit-row"
          count={{ noun: "entry", testId: "audit-count" }}
        />
      </Card>
    </div>
  );
}

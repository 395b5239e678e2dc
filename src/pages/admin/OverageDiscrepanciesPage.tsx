import { usePaginatedQuery } from "convex/react";
import { Link } from "react-router";
import { api } from "../../../convex/_generated/api";
import { PageHeader } from "../../components/PageHeader";
import { Card } from "../../components/Card";
import { DataTable, type Column } from "../../components/DataTable";
import { plural } from "../../lib/format";
import type { ReconciliationRow } from "../../lib/overage";
import { DISCREPANCY_COLUMNS } from "./overageColumns";

const PAGE_SIZE = 25;

/**
 * Every account-month whose last reconciliation found a discrepancy
 * (`billing.overageSupport.discrepancies`, newest check first, live): overage billable but not
 * reported, reported but not acknowledged, or acknowledged but not in the provider's totals.
 * Support opens the account, where a failed row can be resent; a month that reconciles on its
 * next check leaves this list.
 */
export function OverageDiscrepanciesPage() {
  const { results, status, loadMore } = usePaginatedQuery(
    api.billing.overageSupport.discrepancies,
    {},
    { initialNumItems: PAGE_SIZE },
  );
  const [checked, ...rest] = DISCREPANCY_COLUMNS;
  const columns: readonly Column<ReconciliationRow>[] = [
    checked,
    {
      header: "Account",
      cell: (r) => <Link to={`/admin/accounts/${r.userId}`}>{r.email ?? "Open account"}</Link>,
    },
    ...rest,
  ];

  return (
    <div className="page">
      <PageHeader
        title="Overage discrepancies"
        description="Months whose reported overage did not match the ledger or the provider at the last reconciliation, newest check first."
      />
      <Card>
        <DataTable
          columns={columns}
          rows={status === "LoadingFirstPage" ? undefined : results}
          rowKey={(r) => r._id}
          loadingLabel="Loading discrepancies…"
          empty={{
            title: "No overage discrepancies",
            body: "Every month checked so far matched: what the ledger bills, what was reported and what the provider counted.",
          }}
          caption="Overage months that did not reconcile, newest check first"
          testId="overage-discrepancies"
          rowTestId="overage-discrepancy"
          footer={
            <>
              <span className="muted small" data-testid="overage-discrepancies-count">
                {status === "Exhausted" ? "" : "Showing "}
                {plural(results.length, "month")}
              </span>
              {status !== "Exhausted" && (
                <button
                  type="button"
                  className="button button-small"
                  onClick={() => loadMore(PAGE_SIZE)}
                  disabled={status !== "CanLoadMore"}
                >
                  {status === "LoadingMore" ? "Loading…" : "Load more"}
                </button>
              )}
            </>
          }
        />
      </Card>
    </div>
  );
}

import { Link } from "react-router";
import { api } from "../../../convex/_generated/api";
import { PageHeader } from "../../components/PageHeader";
import { Card } from "../../components/Card";
import type { Column } from "../../components/DataTable";
import { PaginatedTable, usePages } from "../../components/PaginatedTable";
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
  const page = usePages(api.billing.overageSupport.discrepancies, {}, PAGE_SIZE);
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
        <PaginatedTable
          columns={columns}
          page={page}
          loadingLabel="Loading discrepancies…"
          empty={{
            title: "No overage discrepancies",
            body: "Every month checked so far matched: what the ledger bills, what was reported and what the provider counted.",
          }}
          caption="Overage months that did not reconcile, newest check first"
          testId="overage-discrepancies"
          rowTestId="overage-discrepancy"
          count={{ noun: "month", testId: "overage-discrepancies-count" }}
        />
      </Card>
    </div>
  );
}

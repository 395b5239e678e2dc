import { usePaginatedQuery } from "convex/react";
import { useState } from "react";
import { Link } from "react-router";
import { api } from "../../../convex/_generated/api";
import { PageHeader } from "../../components/PageHeader";
import { Card } from "../../components/Card";
import { DataTable, type Column } from "../../components/DataTable";
import { EVENT_COLUMNS } from "../../components/billingColumns";
import type { BillingEventRow } from "../../lib/billing";
import { plural } from "../../lib/format";
import { ReapplyButton, ReapplyEventForm, type ReapplyTarget } from "./ReapplyEventForm";

const PAGE_SIZE = 25;

/**
 * Billing events that could not be applied (`billing.support.failedEvents`, newest first, live):
 * most concern a customer no account is linked to, or a price nobody configured. Support fixes
 * the cause, then re-applies the event with a reason; an applied event leaves this list.
 */
export function FailedBillingEventsPage() {
  const { results, status, loadMore } = usePaginatedQuery(api.billing.support.failedEvents, {}, { initialNumItems: PAGE_SIZE });
  const [picked, setPicked] = useState<ReapplyTarget | null>(null);
  const { received, type, outcome } = EVENT_COLUMNS;
  const columns: readonly Column<BillingEventRow>[] = [
    received,
    type,
    {
      header: "Account",
      cell: (e) =>
        e.userId === undefined ? (
          <span className="muted">No account</span>
        ) : (
          <Link to={`/admin/accounts/${e.userId}`}>Open account</Link>
        ),
    },
    outcome,
    { header: "Actions", hideHeader: true, className: "cell-actions", cell: (e) => <ReapplyButton event={e} onPick={setPicked} /> },
  ];

  return (
    <div className="page">
      <PageHeader
        title="Failed billing events"
        description="Stripe and Polar events that could not be applied, newest first. Fix the cause, then re-apply the event."
      />
      <Card>
        <DataTable
          columns={columns}
          rows={status === "LoadingFirstPage" ? undefined : results}
          rowKey={(e) => e._id}
          loadingLabel="Loading failed events…"
          empty={{ title: "No failed billing events", body: "Every billing event received so far was applied or ignored by design." }}
          caption="Billing events that could not be applied, newest first"
          testId="failed-billing-events"
          rowTestId="failed-billing-event"
          footer={
            <>
              <span className="muted small" data-testid="failed-events-count">
                {status === "Exhausted" ? "" : "Showing "}
                {plural(results.length, "failed event")}
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
        {picked !== null && <ReapplyEventForm key={picked.eventId} target={picked} onClose={() => setPicked(null)} />}
      </Card>
    </div>
  );
}

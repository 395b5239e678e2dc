import { useState } from "react";
import { Link } from "react-router";
import { api } from "../../../convex/_generated/api";
import { PageHeader } from "../../components/PageHeader";
import { Card } from "../../components/Card";
import type { Column } from "../../components/DataTable";
import { PaginatedTable, usePages } from "../../components/PaginatedTable";
import { EVENT_COLUMNS } from "../../components/billingColumns";
import type { BillingEventRow } from "../../lib/billing";
import { ReapplyButton, ReapplyEventForm, type ReapplyTarget } from "./ReapplyEventForm";

const PAGE_SIZE = 25;

/**
 * Billing events that could not be applied (`billing.support.failedEvents`, newest first, live):
 * most concern a customer no account is linked to, or a price nobody configured. Support fixes
 * the cause, then re-applies the event with a reason; an applied event leaves this list.
 */
export function FailedBillingEventsPage() {
  const page = usePages(api.billing.support.failedEvents, {}, PAGE_SIZE);
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
        <PaginatedTable
          columns={columns}
          page={page}
          loadingLabel="Loading failed events…"
          empty={{ title: "No failed billing events", body: "Every billing event received so far was applied or ignored by design." }}
          caption="Billing events that could not be applied, newest first"
          testId="failed-billing-events"
          rowTestId="failed-billing-event"
          count={{ noun: "failed event", testId: "failed-events-count" }}
        />
        {picked !== null && <ReapplyEventForm key={picked.eventId} target={picked} onClose={() => setPicked(null)} />}
      </Card>
    </div>
  );
}

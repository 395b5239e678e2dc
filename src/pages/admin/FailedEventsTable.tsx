import { useState } from "react";
import { Link } from "react-router";
import { api } from "../../../convex/_generated/api";
import type { Column, DataTableOptions } from "../../components/DataTable";
import { type PageCount, PaginatedTable, usePages } from "../../components/PaginatedTable";
import { EVENT_COLUMNS } from "../../components/billingColumns";
import type { BillingEventRow } from "../../lib/billing";
import { ReapplyButton, ReapplyEventForm, type ReapplyTarget } from "./ReapplyEventForm";

const PAGE_SIZE = 25;

type TableWords = Pick<DataTableOptions<BillingEventRow>, "loadingLabel" | "empty" | "caption" | "testId" | "rowTestId">;

/**
 * The billing events that could not be applied (`billing.support.failedEvents`, newest first,
 * live), each with its re-apply action: the failed-events page and the background-work page's
 * webhook card, which differ only in their words and test ids.
 */
export function FailedEventsTable({ count, ...words }: TableWords & { count?: PageCount }) {
  const page = usePages(api.billing.support.failedEvents, {}, PAGE_SIZE);
  const [picked, setPicked] = useState<ReapplyTarget | null>(null);
  const { received, type, outcome } = EVENT_COLUMNS;
  const columns: readonly Column<BillingEventRow>[] = [
    received,
    type,
    {
      header: "Account",
      cell: (e) => (e.userId === undefined ? <span className="muted">No account</span> : <Link to={`/admin/accounts/${e.userId}`}>Open account</Link>),
    },
    outcome,
    { header: "Actions", hideHeader: true, className: "cell-actions", cell: (e) => <ReapplyButton event={e} onPick={setPicked} /> },
  ];
  return (
    <>
      <PaginatedTable columns={columns} page={page} {...words} {...(count !== undefined ? { count } : {})} />
      {picked !== null && <ReapplyEventForm key={picked.eventId} target={picked} onClose={() => setPicked(null)} />}
    </>
  );
}

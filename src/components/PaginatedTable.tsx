import { usePaginatedQuery, type PaginatedQueryArgs, type PaginatedQueryReference, type UsePaginatedQueryResult } from "convex/react";
import { DataTable, type DataTableOptions, type DataTableProps, type RowKeyRule } from "./DataTable";
import { plural } from "../lib/format";

/** What the footer says about the rows shown: "Showing 25 accounts matching “ada”", "30 accounts match “ada”". */
export interface PageCount {
  /** The rows' noun, singular: "account" ("25 accounts"). */
  noun: string;
  testId: string;
  /** Words after the count, once more can be loaded and once all are shown (a search term). */
  qualifier?: { partial: string; complete: string };
}

/** A paginated query's rows so far, and how many each "Load more" fetches (as many as the first page). */
export type Pages<Row> = UsePaginatedQueryResult<Row> & { pageSize: number };

export function usePages<Query extends PaginatedQueryReference>(query: Query, args: PaginatedQueryArgs<Query>, pageSize: number) {
  return { ...usePaginatedQuery(query, args, { initialNumItems: pageSize }), pageSize };
}

/**
 * A DataTable over `usePages`: loading until the first page arrives, the
 * table's empty state, and a footer with the count so far (optional) and "Load more" until the
 * last page.
 */
export function PaginatedTable<Row>({
  page,
  count,
  ...table
}: Omit<DataTableOptions<Row>, "rows" | "footer"> &
  RowKeyRule<Row> & {
    page: Pages<Row>;
    count?: PageCount;
  }) {
  const { results, status, loadMore, pageSize } = page;
  const complete = status === "Exhausted";
  return (
    <DataTable
      {...(table as DataTableProps<Row>)}
      rows={status === "LoadingFirstPage" ? undefined : results}
      footer={
        (count !== undefined || !complete) && (
          <>
            {count !== undefined && (
              <span className="muted small" data-testid={count.testId}>
                {complete ? "" : "Showing "}
                {plural(results.length, count.noun)}
                {count.qualifier && (complete ? count.qualifier.complete : count.qualifier.partial)}
              </span>
            )}
            {!complete && (
              <button
                type="button"
                className="button button-small"
                onClick={() => loadMore(pageSize)}
                disabled={status !== "CanLoadMore"}
              >
                {status === "LoadingMore" ? "Loading…" : "Load more"}
              </button>
            )}
          </>
        )
      }
    />
  );
}

import type { ReactNode } from "react";
import { EmptyState } from "./EmptyState";
import { Loading } from "./Loading";

/** One column: its header and how a row fills its cell. */
export interface Column<Row> {
  header: string;
  cell: (row: Row) => ReactNode;
  /** Right-aligned, tabular figures (counts, money, latency). */
  numeric?: boolean;
  /** The header is for screen readers only (an actions column needs no visible title). */
  hideHeader?: boolean;
  /** Extra class on the cells, e.g. "cell-actions". */
  className?: string;
}

/** What an empty table says instead of an empty grid, and what the reader can do about it. */
export interface EmptyMessage {
  title: string;
  body?: ReactNode;
  action?: ReactNode;
}

export interface DataTableOptions<Row> {
  columns: readonly Column<Row>[];
  /** Undefined while loading. */
  rows: readonly Row[] | undefined;
  /** React's key of a row; a Convex document's is its `_id` unless told otherwise. */
  rowKey?: (row: Row) => string;
  empty: EmptyMessage;
  loadingLabel?: string;
  /** Names the table for screen readers; the card's title is usually the visible name. */
  caption?: string;
  footer?: ReactNode;
  dense?: boolean;
  testId?: string;
  rowTestId?: string;
  rowClassName?: (row: Row) => string | undefined;
}

/** Rows without an `_id` (summaries, lines of a bill) must say how they are keyed. */
export type RowKeyRule<Row> = [Row] extends [{ _id: string }] ? unknown : { rowKey: (row: Row) => string };

export type DataTableProps<Row> = DataTableOptions<Row> & RowKeyRule<Row>;

const documentId = (row: unknown) => (row as { _id: string })._id;

/**
 * The SPA's tables (keys, usage, accounts) and their three states in one place:
 * `rows` undefined is loading (the header stays, so the layout does not jump when rows
 * arrive), an empty list shows `empty`, otherwise the rows with an optional footer
 * (a "Load more" control, a note about what is not shown).
 */
export function DataTable<Row>({
  columns,
  rows,
  rowKey,
  empty,
  loadingLabel = "Loading…",
  caption,
  footer,
  dense = false,
  testId,
  rowTestId,
  rowClassName,
}: DataTableOptions<Row> & RowKeyRule<Row>) {
  const keyOf = rowKey ?? documentId;
  if (rows !== undefined && rows.length === 0) {
    return (
      <EmptyState title={empty.title} action={empty.action}>
        {empty.body}
      </EmptyState>
    );
  }
  const cellClass = (column: Column<Row>) =>
    [column.numeric ? "num" : undefined, column.className].filter(Boolean).join(" ") || undefined;
  return (
    <div className="table-wrap">
      <table className={dense ? "table table-dense" : "table"} data-testid={testId} aria-busy={rows === undefined}>
        {caption && <caption className="visually-hidden">{caption}</caption>}
        <thead>
          <tr>
            {columns.map((column) => (
              <th key={column.header} scope="col" className={cellClass(column)}>
                {column.hideHeader ? <span className="visually-hidden">{column.header}</span> : column.header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows === undefined ? (
            <tr className="table-state">
              <td colSpan={columns.length}>
                <Loading label={loadingLabel} />
              </td>
            </tr>
          ) : (
            rows.map((row) => (
              <tr key={keyOf(row)} data-testid={rowTestId} className={rowClassName?.(row)}>
                {columns.map((column) => (
                  <td key={column.header} className={cellClass(column)}>
                    {column.cell(row)}
                  </td>
                ))}
              </tr>
            ))
          )}
        </tbody>
      </table>
      {rows !== undefined && footer && <div className="table-footer">{footer}</div>}
    </div>
  );
}

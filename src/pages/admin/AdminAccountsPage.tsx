import type { FunctionReturnType } from "convex/server";
import { Link, useSearchParams } from "react-router";
import { api } from "../../../convex/_generated/api";
import { PageHeader } from "../../components/PageHeader";
import { Card } from "../../components/Card";
import type { Column } from "../../components/DataTable";
import { PaginatedTable, usePages } from "../../components/PaginatedTable";
import { TextField } from "../../components/TextField";
import { PlanBadge } from "../../components/PlanBadge";
import { StateBadge } from "../../components/StateBadge";
import { RelativeTime } from "../../components/RelativeTime";
import { useDebounced } from "../../lib/useDebounced";

type AccountRow = FunctionReturnType<typeof api.admin.accounts.list>["page"][number];

const PAGE_SIZE = 25;

const columns: readonly Column<AccountRow>[] = [
  { header: "Email", cell: (a) => <Link to={`/admin/accounts/${a._id}`}>{a.email}</Link> },
  { header: "Name", cell: (a) => a.name ?? <span className="muted">—</span> },
  { header: "Role", cell: (a) => a.role },
  { header: "Plan", cell: (a) => <PlanBadge plan={a.plan} /> },
  { header: "State", cell: (a) => <StateBadge state={a.state} /> },
  { header: "Last seen", cell: (a) => <RelativeTime at={a.lastSeenAt} /> },
];

export function AdminAccountsPage() {
  // The search lives in the URL so a filtered list can be shared and survives back/forward.
  const [params, setParams] = useSearchParams();
  const search = params.get("q") ?? "";
  const term = useDebounced(search.trim());
  const setSearch = (value: string) => setParams(value ? { q: value } : {}, { replace: true });
  const page = usePages(api.admin.accounts.list, term ? { search: term } : {}, PAGE_SIZE);

  return (
    <div className="page">
      <PageHeader
        title="Accounts"
        description="Customer accounts, live: the most recently seen first, or search by the start of an email."
      />
      <Card>
        <form className="inline-form" role="search" onSubmit={(e) => e.preventDefault()}>
          <TextField
            id="account-search"
            label="Search by email"
            type="search"
            value={search}
            onChange={setSearch}
            placeholder="ada@ or ada@example.com"
            autoComplete="off"
            grow
          />
        </form>
        <PaginatedTable
          columns={columns}
          page={page}
          loadingLabel="Loading accounts…"
          empty={
            term
              ? {
                  title: `No accounts match “${term}”`,
                  body: "Search matches the start of the email address.",
                  action: (
                    <button type="button" className="button button-small" onClick={() => setSearch("")}>
                      Clear search
                    </button>
                  ),
                }
              : { title: "No accounts yet", body: "Accounts appear here when people sign up." }
          }
          caption={term ? `Accounts whose email starts with “${term}”` : "Accounts, most recently seen first"}
          testId="accounts-table"
          count={{
            noun: "account",
            testId: "accounts-count",
            qualifier: term ? { partial: ` matching “${term}”`, complete: ` match “${term}”` } : undefined,
          }}
        />
      </Card>
    </div>
  );
}

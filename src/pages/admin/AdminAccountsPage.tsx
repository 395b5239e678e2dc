import type { FunctionReturnType } from "convex/server";
import { Link, useSearchParams } from "react-router";
import { api } from "../../../convex/_generated/api";
import { ACCOUNT_STATES, type AccountStateName } from "../../../convex/model/admin/search";
import { PageHeader } from "../../components/PageHeader";
import { Card } from "../../components/Card";
import type { Column } from "../../components/DataTable";
import { PaginatedTable, usePages } from "../../components/PaginatedTable";
import { TextField } from "../../components/TextField";
import { PlanBadge } from "../../components/PlanBadge";
import { StateBadge } from "../../components/StateBadge";
import { RelativeTime } from "../../components/RelativeTime";
import { stateInfo } from "../../lib/accountState";
import { PLAN_IDS, planFor, type PlanId } from "../../lib/plans";
import { useDebounced } from "../../lib/useDebounced";
import { SelectField } from "./SelectField";

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

/** A filter's choices: "" (any) first, then the values. */
function anyOf<T extends string>(values: readonly T[]): readonly (T | "")[] {
  return ["", ...values];
}

function oneOf<T extends string>(values: readonly T[], raw: string | null): T | "" {
  return raw !== null && (values as readonly string[]).includes(raw) ? (raw as T) : "";
}

/** The filters in words, " (Active, Basic)", or "" without any. */
function filterWords(state: AccountStateName | "", plan: PlanId | ""): string {
  const parts = [state && stateInfo(state).label, plan && (planFor(plan)?.name ?? plan)].filter(Boolean);
  return parts.length ? ` (${parts.join(", ")})` : "";
}

export function AdminAccountsPage() {
  // The search and filters live in the URL so a filtered list can be shared and survives back/forward.
  const [params, setParams] = useSearchParams();
  const search = params.get("q") ?? "";
  const state = oneOf(ACCOUNT_STATES, params.get("state"));
  const plan = oneOf(PLAN_IDS, params.get("plan"));
  const term = useDebounced(search.trim());
  const update = (key: "q" | "state" | "plan", value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    setParams(next, { replace: true });
  };
  const filtered = Boolean(term || state || plan);
  const words = filterWords(state, plan);
  const page = usePages(
    api.admin.accounts.list,
    { ...(term ? { search: term } : {}), ...(state ? { state } : {}), ...(plan ? { plan } : {}) },
    PAGE_SIZE,
  );

  return (
    <div className="page">
      <PageHeader
        title="Accounts"
        description="Customer accounts, live: the most recently seen first; filter by state and plan, or search by the start of an email (filtered lists are in email order)."
      />
      <Card>
        <form className="inline-form" role="search" onSubmit={(e) => e.preventDefault()} data-testid="account-filters">
          <TextField
            id="account-search"
            label="Search by email"
            type="search"
            value={search}
            onChange={(v) => update("q", v)}
            placeholder="ada@ or ada@example.com"
            autoComplete="off"
            grow
          />
          <SelectField id="account-state" label="State" choices={anyOf(ACCOUNT_STATES)} value={state} onChange={(v) => update("state", v)} describe={(s) => (s ? stateInfo(s).label : "Any")} />
          <SelectField id="account-plan" label="Plan" choices={anyOf(PLAN_IDS)} value={plan} onChange={(v) => update("plan", v)} describe={(p) => (p ? (planFor(p)?.name ?? p) : "Any")} />
        </form>
        <PaginatedTable
          columns={columns}
          page={page}
          loadingLabel="Loading accounts…"
          empty={
            filtered
              ? {
                  title: term ? `No accounts match “${term}”${words}` : `No accounts${words}`,
                  body: "Search matches the start of the email address; filters match the account's current state and plan.",
                  action: (
                    <button type="button" className="button button-small" onClick={() => setParams({}, { replace: true })}>
                      {state || plan ? "Clear filters" : "Clear search"}
                    </button>
                  ),
                }
              : { title: "No accounts yet", body: "Accounts appear here when people sign up." }
          }
          caption={
            filtered
              ? `Accounts${term ? ` whose email starts with “${term}”` : ""}${words}, in email order`
              : "Accounts, most recently seen first"
          }
          testId="accounts-table"
          count={{
            noun: "account",
            testId: "accounts-count",
            qualifier: term
              ? { partial: ` matching “${term}”${words}`, complete: ` match “${term}”${words}` }
              : words
                ? { partial: words, complete: words }
                : undefined,
          }}
        />
      </Card>
    </div>
  );
}

import { useQuery } from "convex/react";
import { Link, useSearchParams } from "react-router";
import { api } from "../../../convex/_generated/api";
import { PageHeader } from "../../components/PageHeader";
import { Card } from "../../components/Card";
import { Loading } from "../../components/Loading";
import { EmptyState } from "../../components/EmptyState";
import { PlanBadge } from "../../components/PlanBadge";
import { StateBadge } from "../../components/StateBadge";
import { RelativeTime } from "../../components/RelativeTime";
import { useDebounced } from "../../lib/useDebounced";

export function AdminAccountsPage() {
  // The search lives in the URL so a filtered list can be shared and survives back/forward.
  const [params, setParams] = useSearchParams();
  const search = params.get("q") ?? "";
  const debounced = useDebounced(search.trim());
  const accounts = useQuery(api.admin.listAccounts, debounced ? { search: debounced } : {});

  return (
    <div className="page">
      <PageHeader title="Accounts" description="Every customer account, live. Search by email." />
      <Card>
        <form className="inline-form" role="search" onSubmit={(e) => e.preventDefault()}>
          <div className="field field-grow">
            <label htmlFor="account-search">Search by email</label>
            <input
              id="account-search"
              type="search"
              value={search}
              onChange={(e) => setParams(e.target.value ? { q: e.target.value } : {}, { replace: true })}
              placeholder="ada@ or ada@example.com"
              autoComplete="off"
            />
          </div>
        </form>
        {accounts === undefined ? (
          <Loading label="Loading accounts…" />
        ) : accounts.length === 0 ? (
          <EmptyState title={debounced ? `No accounts starting with “${debounced}”` : "No accounts yet"}>
            {debounced ? "Search matches the start of the email address." : "Accounts appear here when people sign up."}
          </EmptyState>
        ) : (
          <div className="table-wrap">
            <table className="table" data-testid="accounts-table">
              <thead>
                <tr>
                  <th scope="col">Email</th>
                  <th scope="col">Name</th>
                  <th scope="col">Role</th>
                  <th scope="col">Plan</th>
                  <th scope="col">State</th>
                  <th scope="col">Last seen</th>
                </tr>
              </thead>
              <tbody>
                {accounts.map((a) => (
                  <tr key={a._id}>
                    <td>
                      <Link to={`/admin/accounts/${a._id}`}>{a.email}</Link>
                    </td>
                    <td>{a.name ?? <span className="muted">—</span>}</td>
                    <td>{a.role}</td>
                    <td>
                      <PlanBadge plan={a.plan} />
                    </td>
                    <td>
                      <StateBadge state={a.state} />
                    </td>
                    <td>
                      <RelativeTime at={a.lastSeenAt} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {accounts !== undefined && accounts.length >= 50 && (
          <p className="muted small">Showing the first 50. Narrow the search to find others.</p>
        )}
      </Card>
    </div>
  );
}

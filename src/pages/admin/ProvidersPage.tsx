import { useQuery } from "convex/react";
import { api } from "../../../convex/_generated/api";
import { StatusBadge } from "../../components/Badge";
import { Card } from "../../components/Card";
import { type Column, DataTable } from "../../components/DataTable";
import { PageHeader } from "../../components/PageHeader";
import { MasterKeysSupport } from "./MasterKeysSupport";
import { ErrorBoundary } from "../../components/ErrorBoundary";
import { RelativeTimeWithDate } from "../../components/RelativeTime";
import {
  BREAKER_STATES,
  type BreakerRow,
  type BreakerTransition,
  failureRateLine,
  probeCountdown,
  recentTransitions,
  transitionLabel,
} from "../../lib/providerHealth";
import { formatDateTime } from "../../lib/format";
import { useNow } from "../../lib/useNow";

const none = <span className="muted">—</span>;

/** An open breaker's next probe, counted down each second ("just now" would hide the wait). */
function Reopens({ at }: { at: number }) {
  const now = useNow(1_000);
  return (
    <>
      <span data-testid="breaker-probe-countdown">{probeCountdown(at, now)}</span>
      <span className="cell-sub muted">{formatDateTime(at)}</span>
    </>
  );
}

const PROVIDER_COLUMNS: readonly Column<BreakerRow>[] = [
  { header: "Provider", cell: (r) => <code data-testid="breaker-provider">{r.provider}</code> },
  { header: "State", cell: (r) => <StatusBadge status={BREAKER_STATES[r.state]} testId="breaker-state" /> },
  {
    header: "Failure rate at the last change",
    cell: (r) => <span data-testid="breaker-failure-rate">{failureRateLine(r.failures, r.requests)}</span>,
  },
  { header: "Opened", cell: (r) => (r.openedAt === null ? none : <RelativeTimeWithDate at={r.openedAt} />) },
  { header: "Next probe", cell: (r) => (r.reopenAt === null ? none : <Reopens at={r.reopenAt} />) },
  { header: "Last error", cell: (r) => (r.lastError === null ? none : <span data-testid="breaker-last-error">{r.lastError}</span>) },
];

type TransitionRow = BreakerTransition & { provider: string };

const TRANSITION_COLUMNS: readonly Column<TransitionRow>[] = [
  { header: "When", cell: (t) => <RelativeTimeWithDate at={t.at} /> },
  { header: "Provider", cell: (t) => <code>{t.provider}</code> },
  { header: "Change", cell: (t) => <span data-testid="breaker-transition">{transitionLabel(t)}</span> },
  { header: "Attempts", cell: (t) => failureRateLine(t.failures, t.requests) },
  { header: "Cool-down", numeric: true, cell: (t) => (t.to === "open" ? `${Math.round(t.coolDownMs / 1000)} s` : none) },
  { header: "Last error", cell: (t) => t.lastError ?? none },
];

/**
 * The AI providers' circuit breakers (`proxy.breakers.list`, live): which providers the proxy
 * is refusing or probing, why, and when it tries again. A breaker's row changes only on a
 * transition, so the page updates the moment one opens or closes.
 */
export function ProvidersPage() {
  const rows = useQuery(api.proxy.breakers.list, {});
  const transitions = rows === undefined ? undefined : recentTransitions(rows);

  return (
    <div className="page">
      <PageHeader
        title="AI providers"
        description="Circuit breakers in front of each upstream provider. Open: requests fail over or get 503 with retry-after until a probe succeeds."
      />
      <Card title="Breakers">
        <DataTable
          columns={PROVIDER_COLUMNS}
          rows={rows}
          rowKey={(r) => r.provider}
          loadingLabel="Loading providers…"
          empty={{
            title: "Every provider is healthy",
            body: "No breaker has opened yet. A provider appears here once its failures trip its breaker.",
          }}
          caption="Each provider's circuit breaker"
          testId="provider-breakers"
          rowTestId="provider-breaker"
        />
      </Card>
      <Card title="Recent transitions">
        <DataTable
          columns={TRANSITION_COLUMNS}
          rows={transitions}
          rowKey={(t) => `${t.provider}:${t.at}:${t.from}:${t.to}`}
          loadingLabel="Loading transitions…"
          empty={{ title: "No transitions yet" }}
          caption="Breaker state changes, newest first"
          testId="breaker-transitions"
          rowTestId="breaker-transition-row"
          dense
        />
      </Card>
      <ErrorBoundary>{/* Master provider keys by id (convex/credentials/masterKeys.ts) */}<MasterKeysSupport /></ErrorBoundary>
    </div>
  );
}

import { useMutation } from "convex/react";
import type { FunctionReturnType } from "convex/server";
import { useState } from "react";
import { Link } from "react-router";
import { api } from "../../../convex/_generated/api";
import type { Id } from "../../../convex/_generated/dataModel";
import { minuteOf } from "../../../convex/model/admin/work";
import { STEP_LABELS, type StepName } from "../../../convex/model/identity/provisioning";
import { PageHeader } from "../../components/PageHeader";
import { Card } from "../../components/Card";
import type { Column } from "../../components/DataTable";
import { PaginatedTable, usePages } from "../../components/PaginatedTable";
import { RelativeTime } from "../../components/RelativeTime";
import { ErrorBoundary } from "../../components/ErrorBoundary";
import { useNow } from "../../lib/useNow";
import { SelectField } from "./SelectField";
import { RetryForm } from "./RetryForm";
import { FailedEventsTable } from "./FailedEventsTable";

const PAGE_SIZE = 20;

type StepRow = FunctionReturnType<typeof api.admin.work.provisioning>["page"][number];
type MailRow = FunctionReturnType<typeof api.admin.work.emails>["page"][number];

/**
 * Work that needs a person, live: identity provisioning steps that failed or stalled, mail that
 * failed or is overdue, billing webhook events that could not be applied. Each row retries
 * through its domain's own path, with a reason for the audit log; a retried row leaves its list
 * once it succeeds.
 */
export function BackgroundWorkPage() {
  // Rounded to the minute: the lists' "stalled" cut-off moves once a minute, not every render.
  const asOf = minuteOf(useNow(60_000));
  return (
    <div className="page">
      <PageHeader
        title="Background work"
        description="Provisioning steps, outgoing mail and billing webhooks that need a look. Fix the cause, then retry with a reason."
      />
      <ErrorBoundary>
        <ProvisioningCard asOf={asOf} />
      </ErrorBoundary>
      <ErrorBoundary>
        <MailCard asOf={asOf} />
      </ErrorBoundary>
      <ErrorBoundary>
        <WebhookCard />
      </ErrorBoundary>
    </div>
  );
}

const PHASES = ["provisioning", "deprovisioning"] as const;

function ProvisioningCard({ asOf }: { asOf: number }) {
  const [phase, setPhase] = useState<(typeof PHASES)[number]>("provisioning");
  const page = usePages(api.admin.work.provisioning, { phase, asOf }, PAGE_SIZE);
  const [picked, setPicked] = useState<{ userId: Id<"users">; step: StepName; email: string } | null>(null);
  const rerun = useMutation(api.identity.support.rerunStep);
  const columns: readonly Column<StepRow>[] = [
    { header: "Account", cell: (r) => <Link to={`/admin/accounts/${r.userId}`}>{r.email ?? r.userId}</Link> },
    {
      header: "Steps",
      cell: (r) => (
        <>
          {r.troubles.map((t) => (
            <div key={t.step}>
              <strong>{STEP_LABELS[t.step]}</strong> {t.kind === "failed" ? "failed" : "stalled"} <RelativeTime at={t.since} />
              {t.error && <span className="cell-sub muted">{t.error}</span>}
            </div>
          ))}
        </>
      ),
    },
    {
      header: "Actions",
      hideHeader: true,
      className: "cell-actions",
      cell: (r) =>
        r.troubles.map((t) => (
          <button
            key={t.step}
            type="button"
            className="button button-small"
            onClick={() => setPicked({ userId: r.userId, step: t.step, email: r.email ?? r.userId })}
            aria-label={`Re-run ${STEP_LABELS[t.step]} for ${r.email ?? r.userId}`}
          >
            Re-run {STEP_LABELS[t.step]}…
          </button>
        )),
    },
  ];
  return (
    <Card
      title="Identity provisioning"
      actions={<SelectField id="work-phase" label="Phase" choices={PHASES} value={phase} onChange={setPhase} />}
    >
      <PaginatedTable
        columns={columns}
        page={page}
        rowKey={(r) => r.identityId}
        loadingLabel="Loading provisioning…"
        empty={{ title: "No failed or stalled steps", body: `Every identity ${phase === "provisioning" ? "being provisioned" : "being removed"} is moving.` }}
        caption="Identities with failed or stalled steps"
        testId="work-provisioning"
      />
      {picked !== null && (
        <RetryForm
          key={`${picked.userId}:${picked.step}`}
          what={`${STEP_LABELS[picked.step]} for ${picked.email}`}
          id={`${picked.userId}-${picked.step}`}
          onClose={() => setPicked(null)}
          onRetry={async (reason) => {
            await rerun({ userId: picked.userId, step: picked.step, reason });
            return `${STEP_LABELS[picked.step]} is running again.`;
          }}
        />
      )}
    </Card>
  );
}

const MAIL_STATUSES = ["failed", "queued", "sending"] as const;
const MAIL_STATUS_LABELS: Record<(typeof MAIL_STATUSES)[number], string> = {
  failed: "Failed",
  queued: "Queued, overdue",
  sending: "Sending, stalled",
};

function MailCard({ asOf }: { asOf: number }) {
  const [status, setStatus] = useState<(typeof MAIL_STATUSES)[number]>("failed");
  const page = usePages(api.admin.work.emails, { status, asOf }, PAGE_SIZE);
  const [picked, setPicked] = useState<MailRow | null>(null);
  const retry = useMutation(api.admin.work.retryEmail);
  const columns: readonly Column<MailRow>[] = [
    {
      header: "To",
      cell: (m) => (m.userId ? <Link to={`/admin/accounts/${m.userId}`}>{m.to}</Link> : m.to),
    },
    { header: "Mail", cell: (m) => <code>{m.template}</code> },
    { header: "Due", cell: (m) => <RelativeTime at={m.sendAfter} /> },
    { header: "Last error", cell: (m) => m.lastError ?? <span className="muted">—</span> },
    {
      header: "Actions",
      hideHeader: true,
      className: "cell-actions",
      cell: (m) => (
        <button type="button" className="button button-small" onClick={() => setPicked(m)} aria-label={`Retry the ${m.template} mail to ${m.to}`}>
          Retry…
        </button>
      ),
    },
  ];
  return (
    <Card
      title="Email outbox"
      actions={
        <SelectField id="work-mail-status" label="Show" choices={MAIL_STATUSES} value={status} onChange={setStatus} describe={(s) => MAIL_STATUS_LABELS[s]} />
      }
    >
      <PaginatedTable
        columns={columns}
        page={page}
        loadingLabel="Loading mail…"
        empty={{ title: status === "failed" ? "No failed mail" : "Nothing overdue", body: "Mail that fails after its retries, or waits 15 minutes past due, shows up here." }}
        caption="Mail that needs a look"
        testId="work-mail"
        rowTestId="work-mail-row"
      />
      {picked !== null && (
        <RetryForm
          key={picked._id}
          what={`the ${picked.template} mail to ${picked.to}`}
          id={picked._id}
          onClose={() => setPicked(null)}
          onRetry={async (reason) => {
            await retry({ outboxId: picked._id, reason });
            return "Sending again; the row leaves this list once the provider accepts it.";
          }}
        />
      )}
    </Card>
  );
}

function WebhookCard() {
  return (
    <Card title="Billing webhook events">
      <FailedEventsTable
        loadingLabel="Loading webhook events…"
        empty={{ title: "No failed webhook events", body: "Every Stripe and Polar event received so far was applied or ignored by design." }}
        caption="Billing webhook events that could not be applied, newest first"
        testId="work-webhooks"
        rowTestId="work-webhook-row"
      />
    </Card>
  );
}

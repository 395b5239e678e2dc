import { useMutation, useQuery } from "convex/react";
import { useState } from "react";
import type { FunctionReturnType } from "convex/server";
import { api } from "../../../convex/_generated/api";
import type { Id } from "../../../convex/_generated/dataModel";
import { Card, Subsection } from "../../components/Card";
import { StatusBadge } from "../../components/Badge";
import { Loading } from "../../components/Loading";
import { EmptyState } from "../../components/EmptyState";
import { RelativeTime, RelativeTimeWithDate } from "../../components/RelativeTime";
import { DataTable, type Column } from "../../components/DataTable";
import { formatDateTime } from "../../lib/format";
import { useNow } from "../../lib/useNow";
import {
  SIGNAL_STATUS_LABELS,
  WAITING_FOR_LABELS,
  identityStatusLabel,
  phaseLabel,
  stepDuration,
  stepStatusLabel,
} from "../../components/identity/identityView";
import { ActionForm } from "./ActionForm";

type IdentityRow = FunctionReturnType<typeof api.identity.support.get>[number];
type StepRow = IdentityRow["steps"][number];

/** Where a step is picked for a re-run: its name and label, for the form's legend. */
type RerunTarget = Pick<StepRow, "name" | "label">;

function stepColumns(now: number, onRerun: ((step: RerunTarget) => void) | null): readonly Column<StepRow>[] {
  const columns: Column<StepRow>[] = [
    {
      header: "Step",
      cell: (s) => (
        <>
          {s.label}
          <span className="cell-sub">
            <code>{s.name}</code>
          </span>
        </>
      ),
    },
    {
      header: "Status",
      cell: (s) => (
        <StatusBadge status={stepStatusLabel(s.status)} testId="support-identity-step-status">
          {s.status === "waiting" && s.waitingFor != null && (
            <span className="cell-sub muted">for {WAITING_FOR_LABELS[s.waitingFor] ?? s.waitingFor}</span>
          )}
          {s.notBefore != null && (
            <span className="cell-sub muted" title={formatDateTime(s.notBefore)}>
              not before <RelativeTime at={s.notBefore} />
            </span>
          )}
        </StatusBadge>
      ),
    },
    { header: "Attempts", numeric: true, cell: (s) => <span data-testid="support-identity-step-attempts">{s.attempts}</span> },
    {
      header: "Last error",
      cell: (s) =>
        s.lastError != null ? (
          <span className={s.status === "failed" ? "cell-error" : "muted"} data-testid="support-identity-step-error">
            {s.lastError}
          </span>
        ) : null,
    },
    { header: "Started", cell: (s) => (s.startedAt != null ? <RelativeTimeWithDate at={s.startedAt} /> : <span className="muted">—</span>) },
    { header: "Finished", cell: (s) => (s.finishedAt != null ? <RelativeTimeWithDate at={s.finishedAt} /> : <span className="muted">—</span>) },
    {
      header: "Duration",
      numeric: true,
      cell: (s) => {
        const duration = stepDuration(s, now);
        if (duration === null) return <span className="muted">—</span>;
        return (
          <span className="step-offset" data-testid="support-identity-step-duration">
            {duration}
            {s.finishedAt == null && <span className="cell-sub muted">so far</span>}
          </span>
        );
      },
    },
  ];
  if (onRerun !== null) {
    columns.push({
      header: "Actions",
      hideHeader: true,
      className: "cell-actions",
      cell: (s) =>
        s.status === "failed" ? (
          <button
            type="button"
            className="button button-small"
            onClick={() => onRerun({ name: s.name, label: s.label })}
            aria-label={`Re-run ${s.label}`}
          >
            Re-run…
          </button>
        ) : null,
    });
  }
  return columns;
}

/**
 * The support console's identity section of one account (`identity.support.get`, live): each
 * identity row, newest first (an account that resubscribed may still have an older one being
 * taken apart), with every step's status, workpool attempts, last error and timings. Support can
 * re-run a failed step of the live identity, start provisioning, or force deprovisioning; each
 * takes a reason for the audit log.
 */
export function IdentitySupport({ userId, email }: { userId: Id<"users">; email: string }) {
  const rows = useQuery(api.identity.support.get, { userId });
  const now = useNow(5_000);
  const [picked, setPicked] = useState<RerunTarget | null>(null);

  if (rows === undefined) {
    return (
      <Card title="Identity" testId="support-identity">
        <Loading label="Loading identity…" />
      </Card>
    );
  }
  const live = rows[0];
  return (
    <Card title="Identity" testId="support-identity">
      {rows.length === 0 ? (
        <EmptyState title="No identity">
          <p>An identity is created when a paid subscription starts. Provision one below if it should exist already.</p>
        </EmptyState>
      ) : (
        rows.map((row, i) => (
          <Subsection key={row._id} title={i === 0 ? "Current identity" : `Earlier identity (created ${formatDateTime(row.createdAt)})`}>
            <IdentityDetails row={row} />
            <DataTable
              columns={stepColumns(now, i === 0 ? setPicked : null)}
              rows={row.steps}
              rowKey={(s) => s.name}
              empty={{ title: "No steps", body: "The plan of this identity includes no provisioning steps." }}
              caption={`Identity steps of ${email}${i === 0 ? "" : `, identity created ${formatDateTime(row.createdAt)}`}`}
              testId="support-identity-steps"
              rowTestId="support-identity-step"
              rowClassName={(s) => (s.status === "skipped" ? "row-muted" : undefined)}
              dense
            />
          </Subsection>
        ))
      )}
      {picked !== null && live !== undefined && (
        <RerunStepForm key={picked.name} userId={userId} step={picked} onClose={() => setPicked(null)} />
      )}
      <Subsection title="Actions">
        <ProvisionForm userId={userId} />
        {/* Kept while deprovisioning runs, so its outcome stays on screen; the server refuses a second one. */}
        {live !== undefined && live.phase !== "deprovisioned" && <ForceDeprovisionForm userId={userId} />}
      </Subsection>
    </Card>
  );
}

function IdentityDetails({ row }: { row: IdentityRow }) {
  const phase = phaseLabel(row.phase);
  const status = identityStatusLabel(row.status);
  return (
    <dl className="details">
      <div>
        <dt>Status</dt>
        <dd className="badge-row">
          <StatusBadge status={phase} testId="support-identity-phase" />
          {/* The overall status only when it says more than the phase ("Needs a captcha" while provisioning). */}
          {status.label !== phase.label && <StatusBadge status={status} testId="support-identity-status" />}
          <span className="cell-sub muted">
            <code>{row.status}</code> · created <RelativeTime at={row.createdAt} />
          </span>
        </dd>
      </div>
      {row.error !== undefined && (
        <div>
          <dt>Stopped at</dt>
          <dd className="cell-error" data-testid="support-identity-error">
            {row.statusStep !== undefined && <code>{row.statusStep}</code>} {row.error}
          </dd>
        </div>
      )}
      {row.activatedAt !== undefined && (
        <div>
          <dt>Active since</dt>
          <dd>
            {formatDateTime(row.activatedAt)} ({stepDuration({ startedAt: row.createdAt, finishedAt: row.activatedAt }, row.activatedAt)} after it was created)
          </dd>
        </div>
      )}
      {row.canceledAt !== undefined && (
        <div>
          <dt>Canceled</dt>
          <dd>
            <RelativeTime at={row.canceledAt} />
            {row.deprovisionedAt !== undefined && <> · deprovisioned {formatDateTime(row.deprovisionedAt)}</>}
          </dd>
        </div>
      )}
      <div>
        <dt>Email</dt>
        <dd data-testid="support-identity-email">{row.emailAddress ?? <span className="muted">None yet</span>}</dd>
      </div>
      <div>
        <dt>Phone</dt>
        <dd data-testid="support-identity-phone">{row.phoneNumber ?? <span className="muted">None yet</span>}</dd>
      </div>
      <div>
        <dt>Signal</dt>
        <dd>
          {SIGNAL_STATUS_LABELS[row.signalStatus] ?? row.signalStatus} <code>{row.signalStatus}</code>
        </dd>
      </div>
    </dl>
  );
}

function RerunStepForm({ userId, step, onClose }: { userId: Id<"users">; step: RerunTarget; onClose: () => void }) {
  const rerun = useMutation(api.identity.support.rerunStep);
  return (
    <div className="reapply-box" data-testid="support-identity-rerun">
      <ActionForm
        legend={`Re-run “${step.label}” (${step.name})`}
        submitLabel="Re-run step"
        reasonId={`identity-rerun-reason-${step.name}`}
        onSubmit={async (reason) => {
          await rerun({ userId, step: step.name, reason });
          return `${step.label}: queued again. Its status above updates as it runs.`;
        }}
      />
      <button type="button" className="button button-small" onClick={onClose}>
        Close
      </button>
    </div>
  );
}

function ProvisionForm({ userId }: { userId: Id<"users"> }) {
  const provision = useMutation(api.identity.support.provision);
  return (
    <ActionForm
      legend="Start provisioning"
      submitLabel="Provision identity"
      reasonId="identity-provision-reason"
      onSubmit={async (reason) => {
        await provision({ userId, reason });
        return "Provisioning started: the steps above follow it live.";
      }}
    />
  );
}

function ForceDeprovisionForm({ userId }: { userId: Id<"users"> }) {
  const deprovision = useMutation(api.identity.support.forceDeprovision);
  return (
    <ActionForm
      legend="Force deprovisioning (unregisters Signal, releases the number, removes the mailbox after the retention period)"
      submitLabel="Deprovision"
      danger
      reasonId="identity-deprovision-reason"
      onSubmit={async (reason) => {
        await deprovision({ userId, reason });
        return "Deprovisioning started.";
      }}
    />
  );
}

import { useMutation, useQuery } from "convex/react";
import type { FunctionReturnType } from "convex/server";
import { useState, type FormEvent } from "react";
import { api } from "../../../convex/_generated/api";
import type { Doc, Id } from "../../../convex/_generated/dataModel";
import { Badge } from "../../components/Badge";
import { Card } from "../../components/Card";
import { type Column, DataTable } from "../../components/DataTable";
import { ErrorNotice } from "../../components/ErrorNotice";
import { PageHeader } from "../../components/PageHeader";
import { PaginatedTable, usePages } from "../../components/PaginatedTable";
import { RelativeTime, RelativeTimeWithDate } from "../../components/RelativeTime";
import { TextField } from "../../components/TextField";
import type { Tone } from "../../lib/accountState";
import { formatInteger } from "../../lib/format";
import { useAsyncAction } from "../../lib/useAsyncAction";
import { useViewer } from "../../viewer/ViewerContext";
import { SelectField } from "./SelectField";

type Alert = Doc<"opsAlerts">;
type Rule = Alert["rule"];
type Severity = Alert["severity"];
type StatusFilter = "all" | "open" | "acknowledged" | "resolved";
type Action = "alert" | "alert_and_suspend";

const SEVERITY_TONE: Record<Severity, Tone> = { critical: "critical", warning: "warning", info: "info" };
const STATUS_TONE: Record<Alert["status"], Tone> = { open: "critical", acknowledged: "warning", resolved: "success" };
const STATUS_LABEL: Record<Alert["status"], string> = { open: "Open", acknowledged: "Acknowledged", resolved: "Resolved" };
const SEVERITIES = ["all", "critical", "warning", "info"] as const;
const STATUSES: readonly StatusFilter[] = ["all", "open", "acknowledged", "resolved"];
const STATUS_CHOICE: Record<StatusFilter, string> = { all: "Active and resolved", open: "Open", acknowledged: "Acknowledged", resolved: "Resolved" };
const ACTIONS: readonly Action[] = ["alert", "alert_and_suspend"];
const ACTION_LABEL: Record<Action, string> = { alert: "Alert only", alert_and_suspend: "Alert and suspend the key" };
const HISTORY_PAGE = 25;

const none = <span className="muted">—</span>;

/** Acknowledge or resolve one alert, with the note the audit log keeps. */
function AlertActions({ alert }: { alert: Alert }) {
  const acknowledge = useMutation(api.ops.alerts.acknowledge);
  const resolve = useMutation(api.ops.alerts.resolve);
  const [mode, setMode] = useState<"acknowledge" | "resolve" | null>(null);
  const [note, setNote] = useState("");
  const { pending, error, run, clearError } = useAsyncAction();

  if (mode === null) {
    return (
      <div className="card-actions">
        {alert.status === "open" && (
          <button type="button" className="button button-small button-primary" onClick={() => setMode("acknowledge")}>
            Acknowledge
          </button>
        )}
        <button type="button" className="button button-small" onClick={() => setMode("resolve")}>
          Resolve
        </button>
      </div>
    );
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    const ok = await run(async () => {
      const args = { alertId: alert._id, note: note.trim() };
      if (mode === "acknowledge") await acknowledge(args);
      else await resolve(args);
    });
    if (ok) {
      setMode(null);
      setNote("");
    }
  }

  const id = `alert-note-${alert._id}`;
  return (
    <form className="action-form" onSubmit={submit} aria-label={mode === "acknowledge" ? "Acknowledge alert" : "Resolve alert"}>
      <fieldset disabled={pending}>
        <div className="action-fields">
          <TextField id={id} label="Note" required value={note} onChange={setNote} placeholder="What you checked, what happens next" grow />
          <button type="submit" className="button button-small button-primary">
            {pending ? "Saving…" : mode === "acknowledge" ? "Acknowledge" : "Resolve"}
          </button>
          <button
            type="button"
            className="button button-small"
            onClick={() => {
              setMode(null);
              clearError();
            }}
          >
            Cancel
          </button>
        </div>
      </fieldset>
      {error !== null && <ErrorNotice error={error} compact />}
    </form>
  );
}

function StatusCell({ alert }: { alert: Alert }) {
  return (
    <>
      <Badge tone={STATUS_TONE[alert.status]} testId="alert-status">
        {STATUS_LABEL[alert.status]}
      </Badge>
      {alert.status === "acknowledged" && alert.acknowledgedByLabel && <span className="muted cell-sub">by {alert.acknowledgedByLabel}</span>}
      {alert.status === "resolved" && alert.resolvedBy && (
        <span className="muted cell-sub">{alert.resolvedBy === "auto" ? "the condition cleared" : `by ${alert.resolvedBy}`}</span>
      )}
      {alert.note && (
        <span className="cell-sub" data-testid="alert-note">
          {alert.note}
        </span>
      )}
    </>
  );
}

function columns(ruleLabel: (r: Rule) => string, withActions: boolean): Column<Alert>[] {
  const cols: Column<Alert>[] = [
    {
      header: "Severity",
      cell: (a) => (
        <Badge tone={SEVERITY_TONE[a.severity]} testId="alert-severity">
          {a.severity}
        </Badge>
      ),
    },
    {
      header: "Alert",
      cell: (a) => (
        <>
          <strong data-testid="alert-rule">{ruleLabel(a.rule)}</strong>
          {/* Ids are for lookups; people read the key's prefix or the account's email. */}
          <code className="cell-sub" data-testid="alert-subject" title={a.subject}>
            {a.subjectLabel ?? a.subject}
          </code>
        </>
      ),
    },
    {
      header: "What happened",
      cell: (a) => (
        <>
          <span data-testid="alert-message">{a.message}</span>
          {a.suspendedKeyId && <span className="cell-sub">The policy suspended this key.</span>}
        </>
      ),
    },
    {
      header: "Seen",
      cell: (a) => (
        <>
          <span data-testid="alert-count">{formatInteger(a.count)}×</span>
          <span className="cell-sub muted cell-when">
            last <RelativeTime at={a.lastSeenAt} />
          </span>
          <span className="cell-sub muted cell-when">
            first <RelativeTime at={a.firstSeenAt} />
          </span>
        </>
      ),
    },
    { header: "Status", cell: (a) => <StatusCell alert={a} /> },
  ];
  if (withActions) cols.push({ header: "Actions", hideHeader: true, cell: (a) => <AlertActions alert={a} /> });
  else cols.push({ header: "Resolved", cell: (a) => (a.resolvedAt ? <RelativeTimeWithDate at={a.resolvedAt} /> : none) });
  return cols;
}

/** Restores one suspended key (the owner confirmed the traffic), with a reason for the audit log. */
function RestoreKey({ suspensionId, prefix }: { suspensionId: Id<"keySuspensions">; prefix: string }) {
  const restore = useMutation(api.ops.anomalies.restoreKey);
  const [reason, setReason] = useState("");
  const { pending, error, run } = useAsyncAction();
  return (
    <form
      className="action-form"
      aria-label={`Restore ${prefix}`}
      onSubmit={(e) => {
        e.preventDefault();
        void run(async () => {
          await restore({ suspensionId, reason: reason.trim() });
        });
      }}
    >
      <fieldset disabled={pending}>
        <div className="action-fields">
          <TextField id={`restore-${suspensionId}`} label="Reason" required value={reason} onChange={setReason} placeholder="Shown in the audit log" grow />
          <button type="submit" className="button button-small button-primary">
            {pending ? "Restoring…" : "Restore key"}
          </button>
        </div>
      </fieldset>
      {error !== null && <ErrorNotice error={error} compact />}
    </form>
  );
}

type Suspension = FunctionReturnType<typeof api.ops.anomalies.suspensions>[number];

const SUSPENSION_COLUMNS: readonly Column<Suspension>[] = [
  { header: "Key", cell: (s) => <code data-testid="suspended-key">{s.keyPrefix}…</code> },
  { header: "Owner", cell: (s) => s.ownerEmail ?? none },
  { header: "Why", cell: (s) => s.reason },
  { header: "Suspended", cell: (s) => <RelativeTimeWithDate at={s.suspendedAt} /> },
  { header: "Restore", hideHeader: true, cell: (s) => <RestoreKey suspensionId={s._id} prefix={s.keyPrefix} /> },
];

/** The anomaly policy: what each key rule does. Admins edit it; support reads it. */
function PolicyCard() {
  const viewer = useViewer();
  const policy = useQuery(api.ops.anomalies.policy, {});
  const setPolicy = useMutation(api.ops.anomalies.setPolicy);
  const [spike, setSpike] = useState<Action | null>(null);
  const [manyIps, setManyIps] = useState<Action | null>(null);
  const [reason, setReason] = useState("");
  const [done, setDone] = useState(false);
  const { pending, error, run } = useAsyncAction();

  if (policy === undefined) {
    return (
      <Card title="Anomaly policy">
        <p className="loading">Loading the policy…</p>
      </Card>
    );
  }
  const th = policy.thresholds;
  const rules = [
    {
      id: "policy-key-spike",
      label: "Key usage spike",
      explain: `A key's tokens in one hour above ${th.spikeFactor}× its ${th.spikeBaselineHours / 24}-day hourly p95 (and above ${formatInteger(th.spikeFloorTokens)}).`,
      current: policy.keyUsageSpike,
      value: spike ?? policy.keyUsageSpike,
      set: setSpike,
    },
    {
      id: "policy-many-ips",
      label: "Key used from many IPs",
      explain: `${th.manyIpsDistinct} or more client addresses on one key within ${th.manyIpsWindowMinutes} minutes.`,
      current: policy.keyManyIps,
      value: manyIps ?? policy.keyManyIps,
      set: setManyIps,
    },
  ];
  const footer = (
    <p className="muted" data-testid="policy-updated">
      Signup bursts ({th.signupGlobal} attempts in {th.signupWindowMinutes} minutes, or {th.signupPerIp} from one address) always alert only: there is no key to suspend.{" "}
      {policy.updatedAt !== null ? (
        <>
          Last changed by {policy.updatedByLabel}, <RelativeTime at={policy.updatedAt} />.
        </>
      ) : (
        "Never changed: every rule alerts only."
      )}
    </p>
  );

  if (viewer.role !== "admin") {
    return (
      <Card title="Anomaly policy">
        <dl className="details">
          {rules.map((r) => (
            <div key={r.id}>
              <dt>{r.label}</dt>
              <dd data-testid={r.id}>
                {ACTION_LABEL[r.current]} <span className="muted">— {r.explain}</span>
              </dd>
            </div>
          ))}
        </dl>
        {footer}
        <p className="muted">Only admins change the policy.</p>
      </Card>
    );
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    setDone(false);
    const ok = await run(async () => {
      await setPolicy({ keyUsageSpike: rules[0].value, keyManyIps: rules[1].value, reason: reason.trim() });
    });
    if (ok) {
      setReason("");
      setSpike(null);
      setManyIps(null);
      setDone(true);
    }
  }

  return (
    <Card title="Anomaly policy">
      <form className="action-form" onSubmit={submit} aria-label="Anomaly policy">
        <fieldset disabled={pending}>
          <legend>What each key rule does when it fires</legend>
          {rules.map((r) => (
            <div key={r.id}>
              <SelectField id={r.id} label={r.label} choices={ACTIONS} current={r.current} value={r.value} onChange={r.set} describe={(a) => ACTION_LABEL[a]} />
              <p className="field-hint">{r.explain}</p>
            </div>
          ))}
          <div className="action-fields">
            <TextField id="policy-reason" label="Reason" required value={reason} onChange={setReason} placeholder="Shown in the audit log" grow />
            <button type="submit" className="button button-primary">
              {pending ? "Saving…" : "Save policy"}
            </button>
          </div>
        </fieldset>
        {error !== null && <ErrorNotice error={error} compact />}
        {done && (
          <p className="notice notice-success notice-compact" role="status">
            Policy saved.
          </p>
        )}
      </form>
      {footer}
    </Card>
  );
}

/**
 * Ops alerts, live (ops/alerts.ts): open ones first, then acknowledged, each with its rule,
 * subject, what happened and how often; staff acknowledge or resolve with a note. Below, the
 * resolved history, the keys the anomaly policy suspended, and the policy itself.
 */
export function AlertsPage() {
  const [severity, setSeverity] = useState<(typeof SEVERITIES)[number]>("all");
  const [rule, setRule] = useState<Rule | "all">("all");
  const [status, setStatus] = useState<StatusFilter>("all");
  const rules = useQuery(api.ops.alerts.rules, {});
  const filter = { ...(severity !== "all" ? { severity } : {}), ...(rule !== "all" ? { rule } : {}) };
  const active = useQuery(api.ops.alerts.active, filter);
  const history = usePages(api.ops.alerts.history, filter, HISTORY_PAGE);
  const suspensions = useQuery(api.ops.anomalies.suspensions, {});

  const labels = new Map(rules?.map((r) => [r.rule, r.label]) ?? []);
  const ruleLabel = (r: Rule) => labels.get(r) ?? r;
  const shown = active?.filter((a) => status === "all" || status === "resolved" || a.status === status);
  const filtered = severity !== "all" || rule !== "all" || status !== "all";
  const ruleChoices: (Rule | "all")[] = ["all", ...(rules?.map((r) => r.rule) ?? [])];

  return (
    <div className="page">
      <PageHeader
        title="Alerts"
        description="Ops alerts and usage anomalies, live. A repeat of an active alert updates its row; conditions that clear resolve on their own."
      />
      <Card>
        <form className="inline-form" aria-label="Filter alerts" onSubmit={(e) => e.preventDefault()}>
          <SelectField id="alert-severity" label="Severity" choices={SEVERITIES} value={severity} onChange={setSeverity} describe={(s) => (s === "all" ? "All severities" : s)} />
          <SelectField<Rule | "all"> id="alert-rule" label="Rule" choices={ruleChoices} value={rule} onChange={setRule} describe={(r) => (r === "all" ? "All rules" : ruleLabel(r))} />
          <SelectField id="alert-status" label="Status" choices={STATUSES} value={status} onChange={setStatus} describe={(s) => STATUS_CHOICE[s]} />
        </form>
      </Card>
      {status !== "resolved" && (
        <Card title="Active alerts">
          <DataTable
            columns={columns(ruleLabel, true)}
            rows={shown}
            rowKey={(a) => a._id}
            loadingLabel="Loading alerts…"
            empty={
              filtered
                ? { title: "No active alerts match these filters" }
                : { title: "All quiet", body: "No open or acknowledged alerts. New ones appear here the moment they are raised." }
            }
            caption="Open alerts first, then acknowledged"
            testId="active-alerts"
            rowTestId="active-alert"
          />
        </Card>
      )}
      {(status === "all" || status === "resolved") && (
        <Card title="Resolved">
          <PaginatedTable
            columns={columns(ruleLabel, false)}
            page={history}
            rowKey={(a) => a._id}
            loadingLabel="Loading resolved alerts…"
            empty={{ title: filtered ? "No resolved alerts match these filters" : "No resolved alerts yet" }}
            caption="Resolved alerts, most recently seen first"
            testId="resolved-alerts"
            rowTestId="resolved-alert"
            count={{ noun: "resolved alert", testId: "resolved-count" }}
            dense
          />
        </Card>
      )}
      <Card title="Suspended keys">
        <DataTable
          columns={SUSPENSION_COLUMNS}
          rows={suspensions}
          rowKey={(s) => s._id}
          loadingLabel="Loading suspended keys…"
          empty={{ title: "No suspended keys", body: "Keys the anomaly policy suspends appear here until support restores them." }}
          caption="Keys the anomaly policy suspended"
          testId="suspended-keys"
          rowTestId="suspended-key-row"
        />
      </Card>
      <PolicyCard />
    </div>
  );
}

import { useQuery } from "convex/react";
import { api } from "../../../convex/_generated/api";
import type { Id } from "../../../convex/_generated/dataModel";
import { Card, Subsection } from "../../components/Card";
import { Badge, StatusBadge } from "../../components/Badge";
import { DataTable, type Column } from "../../components/DataTable";
import { RelativeTime, RelativeTimeWithDate } from "../../components/RelativeTime";
import { formatDateTime, formatOffset } from "../../lib/format";
import {
  EMAIL_STATUS,
  EMAIL_TEMPLATE_LABELS,
  REFUSAL_LABELS,
  signupStepLabel,
  type OnboardingEmail,
  type SignupAttempt,
  type SignupStep,
} from "../../lib/signup";

const ATTEMPT_COLUMNS: readonly Column<SignupAttempt>[] = [
  {
    header: "When",
    cell: (a) => <RelativeTimeWithDate at={a.at} />,
  },
  {
    header: "Outcome",
    cell: (a) =>
      a.outcome === "created" ? <Badge tone="success">Created</Badge> : <Badge tone="critical">Refused</Badge>,
  },
  {
    header: "Why",
    cell: (a) =>
      a.reason === undefined ? (
        <span className="muted">Passed every check</span>
      ) : (
        <>
          {REFUSAL_LABELS[a.reason]}
          <span className="cell-sub muted">
            <code>{a.reason}</code>
          </span>
        </>
      ),
  },
];

/** Each step's time after the first one: "+0 s", "+0.4 s"; the first carries the date. */
function stepColumns(firstAt: number): readonly Column<SignupStep>[] {
  return [
    {
      header: "After",
      numeric: true,
      cell: (s) => (
        <span title={formatDateTime(s.at)} className="step-offset">
          {formatOffset(s.at - firstAt)}
        </span>
      ),
    },
    {
      header: "Step",
      cell: (s) => {
        const label = signupStepLabel(s.action);
        return label === undefined ? (
          <code>{s.action}</code>
        ) : (
          <>
            {label}
            <span className="cell-sub">
              <code>{s.action}</code>
            </span>
          </>
        );
      },
    },
    { header: "By", cell: (s) => s.actor },
    { header: "Detail", cell: (s) => (s.detail ? <span className="muted">{s.detail}</span> : null) },
  ];
}

const EMAIL_COLUMNS: readonly Column<OnboardingEmail>[] = [
  {
    header: "Mail",
    cell: (m) => (
      <>
        {EMAIL_TEMPLATE_LABELS[m.template] ?? m.template}
        <span className="cell-sub muted">{m.category}</span>
      </>
    ),
  },
  {
    header: "Status",
    cell: (m) => <StatusBadge status={EMAIL_STATUS[m.status]} testId="signup-email-status" />,
  },
  {
    header: "When",
    cell: (m) =>
      m.sentAt !== undefined ? (
        <>
          Sent <RelativeTime at={m.sentAt} />
          <span className="cell-sub muted">{formatOffset(m.sentAt - m.queuedAt)} after queueing</span>
        </>
      ) : m.status === "queued" && m.sendAfter > m.queuedAt ? (
        <>
          Due <RelativeTime at={m.sendAfter} />
          <span className="cell-sub muted">{formatDateTime(m.sendAfter)}</span>
        </>
      ) : (
        <>
          Queued <RelativeTime at={m.queuedAt} />
        </>
      ),
  },
  {
    header: "Why",
    cell: (m) =>
      m.lastError !== undefined ? (
        <span className={m.status === "failed" ? "cell-error" : "muted"} data-testid="signup-email-error">
          {m.lastError}
        </span>
      ) : m.skipReason !== undefined ? (
        <span className="muted">{m.skipReason}</span>
      ) : null,
  },
];

/**
 * How the account came to be, for support: every signup attempt (and why one was refused),
 * the recorded steps in order with their time after the first, and each onboarding mail.
 */
export function SignupHistory({ userId, email }: { userId: Id<"users">; email: string }) {
  const history = useQuery(api.admin.signup.history, { userId });
  const firstAt = history?.steps[0]?.at ?? 0;
  return (
    <Card title="Signup" testId="signup-history">
      <Subsection title="Attempts">
        <DataTable
          columns={ATTEMPT_COLUMNS}
          rows={history?.attempts}
          loadingLabel="Loading signup history…"
          empty={{
            title: "No signup attempts",
            body: "Accounts made by support or before self-service signup have none.",
          }}
          caption={`Signup attempts of ${email}, newest first`}
          testId="signup-attempts"
          dense
        />
      </Subsection>
      <Subsection title="Steps">
        <DataTable
          columns={stepColumns(firstAt)}
          rows={history?.steps}
          loadingLabel="Loading signup steps…"
          empty={{ title: "No signup steps recorded" }}
          caption={`Signup steps of ${email}, in order, with the time after the first`}
          testId="signup-steps"
          rowTestId="signup-step"
          dense
        />
      </Subsection>
      <Subsection title="Onboarding mail">
        <DataTable
          columns={EMAIL_COLUMNS}
          rows={history?.emails}
          loadingLabel="Loading onboarding mail…"
          empty={{ title: "No onboarding mail", body: "Mail is queued when a signup passes its checks." }}
          caption={`Onboarding mail of ${email}`}
          testId="signup-emails"
          rowTestId="signup-email"
          dense
        />
      </Subsection>
    </Card>
  );
}

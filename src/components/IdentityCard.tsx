import { useMutation, useQuery } from "convex/react";
import { useEffect, useState, type FormEvent, type ReactNode } from "react";
import { Link } from "react-router";
import type { FunctionReturnType } from "convex/server";
import { api } from "../../convex/_generated/api";
import { Card } from "./Card";
import { Badge } from "./Badge";
import { Loading } from "./Loading";
import { EmptyState } from "./EmptyState";
import { ErrorNotice } from "./ErrorNotice";
import { CopyField } from "./CodeBlock";
import { RelativeTime } from "./RelativeTime";
import { useViewer } from "../viewer/ViewerContext";
import { FEATURE_LABELS, planFor } from "../lib/plans";
import { formatDateTime } from "../lib/format";
import { useAsyncAction } from "../lib/useAsyncAction";
import {
  checkCaptchaToken,
  identityStatusLabel,
  retryOpen,
  stepMark,
} from "./identity/identityView";

type IdentityView = NonNullable<FunctionReturnType<typeof api.identity.view.mine>>;
type Step = IdentityView["steps"][number];
type Action = NonNullable<IdentityView["action"]>;

/**
 * The dashboard's identity card: the assistant's own email address, phone number and Signal
 * registration, set up after checkout. `identity.view.mine` is a live query, so each step turns
 * green as its workpool run finishes, without a reload. When a step needs the customer (Signal's
 * captcha, a lockout to wait out, a failure they may retry) the card says so and offers exactly
 * that; otherwise there is nothing to do.
 */
export function IdentityCard() {
  const identity = useQuery(api.identity.view.mine, {});
  if (identity === undefined) {
    return (
      <Card title="Email, phone and Signal" testId="identity-card">
        <Loading label="Checking your assistant's identity…" />
      </Card>
    );
  }
  if (identity === null) return <NoIdentity />;
  const status = identityStatusLabel(identity.status);
  return (
    <Card
      title="Email, phone and Signal"
      testId="identity-card"
      className={`identity-card identity-${status.tone}`}
      actions={
        <Badge tone={status.tone} testId="identity-status">
          {status.label}
        </Badge>
      }
    >
      <PhaseNotice identity={identity} />
      <Addresses identity={identity} />
      {identity.action !== null && <ActionNeeded action={identity.action} />}
      {showSteps(identity) && <StepList steps={identity.steps} />}
    </Card>
  );
}

/** Steps are the story while something is happening; an active identity shows its addresses. */
function showSteps(identity: IdentityView): boolean {
  return identity.phase !== "active" && identity.phase !== "deprovisioned";
}

function NoIdentity() {
  const viewer = useViewer();
  const plan = planFor(viewer.plan);
  const paid = plan !== undefined && plan.priceMicrosPerMonth > 0;
  return (
    <Card title="Email, phone and Signal" testId="identity-card">
      {paid ? (
        // A paid account without an identity row: the payment is not confirmed yet, or support
        // has to start it. Nothing for the customer to do here.
        <EmptyState title="Your assistant's identity is on its way">
          <p>Setting up starts as soon as your payment is confirmed. This card updates by itself.</p>
        </EmptyState>
      ) : (
        <EmptyState
          title="Give your assistant its own identity"
          action={
            <Link to="/billing" className="button button-primary" data-testid="identity-choose-plan">
              Choose a plan
            </Link>
          }
        >
          <p>A paid plan sets these up for your assistant, right after checkout:</p>
          <ul className="feature-list" aria-label="What a paid plan adds">
            <li>{FEATURE_LABELS.email}</li>
            <li>{FEATURE_LABELS.phone}</li>
            <li>{FEATURE_LABELS.signal}</li>
            <li>{FEATURE_LABELS.calendar}</li>
          </ul>
        </EmptyState>
      )}
    </Card>
  );
}

/** Why provisioning is not moving, when something below is for the customer. */
const PAUSED: Record<Action["kind"], string> = {
  captcha: "Setup is waiting for you: Signal needs a captcha, below. The other steps are not affected.",
  retry_after: "Setup is waiting for Signal's lockout to end; you can try again at the time below.",
  retry: "A Signal step did not finish; you can retry it below.",
};

function PhaseNotice({ identity }: { identity: IdentityView }) {
  const words: Record<string, { tone: string; text: string } | undefined> = {
    provisioning:
      identity.action === null
        ? {
            tone: "info",
            text: "We are setting up your assistant's email address, phone number and Signal. Each step turns green as it finishes; this takes a few seconds.",
          }
        : { tone: "warning", text: PAUSED[identity.action.kind] },
    active: { tone: "success", text: "Everything is ready: your assistant can send and receive mail, texts and Signal messages." },
    suspended: {
      tone: "warning",
      text: "Your identity is paused with your account: the mailbox is suspended, the number and Signal are kept. It resumes when the account does.",
    },
    deprovisioning: {
      tone: "warning",
      text: "Your assistant's identity is being removed: Signal first, then the number; the mailbox is deleted at the end of the retention period.",
    },
    deprovisioned: {
      tone: "neutral",
      text: "Your assistant's identity was removed. Subscribe again to get a new email address and number.",
    },
  };
  const notice = words[identity.phase];
  if (notice === undefined) return null;
  return (
    <p className={`state-explanation tone-${notice.tone}`} data-testid="identity-explanation">
      {notice.text}
      {identity.phase === "deprovisioned" && (
        <>
          {" "}
          <Link to="/billing">Billing</Link>
        </>
      )}
    </p>
  );
}

/** The address and number once they exist (copyable), and Signal's state. */
function Addresses({ identity }: { identity: IdentityView }) {
  if (identity.phase === "deprovisioned") return null;
  const { features } = identity;
  const rows: ReactNode[] = [];
  if (features.email && identity.emailAddress !== null) {
    rows.push(<CopyField key="email" label="Email" value={identity.emailAddress} testId="identity-email" />);
  }
  if (features.phone && identity.phoneNumber !== null) {
    rows.push(<CopyField key="phone" label="Phone" value={identity.phoneNumber} testId="identity-phone" />);
  }
  if (features.signal && identity.signalStatus === "verified") {
    rows.push(
      <p key="signal" className="identity-signal" data-testid="identity-signal">
        <Badge tone="success">Signal registered</Badge> on {identity.phoneNumber ?? "your number"}
      </p>,
    );
  }
  if (rows.length === 0) return null;
  return <div className="identity-addresses">{rows}</div>;
}

function StepList({ steps }: { steps: Step[] }) {
  const shown = steps.filter((s) => s.status !== "skipped");
  const done = shown.filter((s) => s.status === "done").length;
  return (
    <>
      <h3 className="visually-hidden">Progress</h3>
      {/* Polite: each finished step is read out once, without interrupting. */}
      <p className="muted setup-count" aria-live="polite" data-testid="identity-progress">
        {done} of {shown.length} steps done
      </p>
      <ol className="identity-steps" data-testid="identity-steps">
        {shown.map((step) => {
          const mark = stepMark(step.status, step.waitingFor);
          return (
            <li key={step.name} className={`identity-step ${mark.className}`} data-testid="identity-step" data-status={step.status}>
              <span className="identity-step-marker" aria-hidden="true">
                {mark.icon}
              </span>
              <span className="identity-step-label">
                {step.label}
                <span className="visually-hidden">, {mark.spoken}</span>
              </span>
              {step.status === "failed" && step.lastError && (
                <span className="identity-step-error" data-testid="identity-step-error">
                  {step.lastError}
                </span>
              )}
            </li>
          );
        })}
      </ol>
    </>
  );
}

function ActionNeeded({ action }: { action: Action }) {
  switch (action.kind) {
    case "captcha":
      return <CaptchaStep captchaUrl={action.captchaUrl} />;
    case "retry_after":
      return <RetryAfter notBefore={action.notBefore} />;
    case "retry":
      return <RetryFailed message={action.message} />;
  }
}

/**
 * Signal asks a person to prove they are one before it registers a number. The token its
 * captcha page gives is valid for a few minutes, so the form says to paste it right away.
 */
function CaptchaStep({ captchaUrl }: { captchaUrl: string }) {
  const submit = useMutation(api.identity.view.submitCaptcha);
  const [token, setToken] = useState("");
  const [invalid, setInvalid] = useState<string | null>(null);
  const [sent, setSent] = useState(false);
  const { pending, error, run } = useAsyncAction();

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    setSent(false);
    const check = checkCaptchaToken(token);
    if (!check.ok) {
      setInvalid(check.message);
      return;
    }
    setInvalid(null);
    const ok = await run(async () => {
      await submit({ token: check.token });
    });
    if (ok) {
      setToken("");
      setSent(true);
    }
  }

  return (
    <section className="notice notice-warning identity-action" aria-labelledby="identity-captcha-title" data-testid="identity-captcha">
      <h3 id="identity-captcha-title" className="notice-title">
        Signal needs you to solve a captcha
      </h3>
      <p>Signal checks that a person is setting up the number. It takes a minute:</p>
      <ol className="identity-instructions">
        <li>
          Open{" "}
          <a href={captchaUrl} target="_blank" rel="noopener noreferrer" data-testid="identity-captcha-link">
            Signal&apos;s captcha page
          </a>{" "}
          and solve the captcha.
        </li>
        <li>
          When the page shows <strong>Open Signal</strong>, right-click it and copy the link&apos;s address. It starts
          with <code>signalcaptcha://</code>.
        </li>
        <li>Paste it below and submit it within a few minutes: tokens expire.</li>
      </ol>
      <form className="inline-form" onSubmit={onSubmit} noValidate>
        <div className="field field-grow">
          <label htmlFor="identity-captcha-token">Captcha token</label>
          <input
            id="identity-captcha-token"
            value={token}
            onChange={(e) => {
              setToken(e.target.value);
              setInvalid(null);
            }}
            placeholder="signalcaptcha://…"
            autoComplete="off"
            spellCheck={false}
            aria-invalid={invalid !== null}
            aria-describedby={invalid !== null ? "identity-captcha-invalid" : undefined}
            disabled={pending}
          />
        </div>
        <button type="submit" className="button button-primary" disabled={pending}>
          {pending ? "Submitting…" : "Submit token"}
        </button>
      </form>
      {invalid !== null && (
        <p id="identity-captcha-invalid" className="field-error" role="alert" data-testid="identity-captcha-invalid">
          {invalid}
        </p>
      )}
      {error !== null && <ErrorNotice error={error} compact />}
      {sent && (
        <p className="notice-meta" role="status">
          Token received: registering Signal again.
        </p>
      )}
    </section>
  );
}

/** True once `at` has passed, turning true by itself at that moment (one timer, no polling). */
function useReached(at: number): boolean {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const wait = at - Date.now();
    if (wait <= 0) return;
    // Timers overflow past ~24.8 days; a longer lockout re-arms when this one fires.
    const id = window.setTimeout(() => setNow(Date.now()), Math.min(wait, 2 ** 31 - 1));
    return () => window.clearTimeout(id);
  }, [at, now]);
  return retryOpen(at, now);
}

/**
 * Signal's 429: too many registration attempts for this number. Trying early extends the
 * lockout, so the button stays disabled until `notBefore`.
 */
function RetryAfter({ notBefore }: { notBefore: number }) {
  const open = useReached(notBefore);
  return (
    <section className="notice notice-warning identity-action" aria-labelledby="identity-retry-after-title" data-testid="identity-retry-after">
      <h3 id="identity-retry-after-title" className="notice-title">
        Signal asked us to wait
      </h3>
      <p>
        Signal limits how often a number may register. Try again at <strong>{formatDateTime(notBefore)}</strong> (
        <RelativeTime at={notBefore} />
        ); trying earlier makes the wait longer.
      </p>
      <RetryButton enabled={open} label={open ? "Try again now" : "Try again (not yet)"} />
    </section>
  );
}

function RetryFailed({ message }: { message: string }) {
  return (
    <section className="notice notice-critical identity-action" aria-labelledby="identity-retry-title" data-testid="identity-retry">
      <h3 id="identity-retry-title" className="notice-title">
        A step did not finish
      </h3>
      <p data-testid="identity-retry-message">{message}</p>
      <RetryButton enabled label="Retry" />
    </section>
  );
}

function RetryButton({ enabled, label }: { enabled: boolean; label: string }) {
  const retry = useMutation(api.identity.view.retry);
  const { pending, error, run } = useAsyncAction();
  return (
    <>
      <button
        type="button"
        className="button button-small"
        disabled={!enabled || pending}
        onClick={() => void run(async () => void (await retry({})))}
        data-testid="identity-retry-button"
      >
        {pending ? "Retrying…" : label}
      </button>
      {error !== null && <ErrorNotice error={error} compact />}
    </>
  );
}

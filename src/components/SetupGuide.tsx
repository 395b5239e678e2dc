import { useMutation, useQuery } from "convex/react";
import type { ReactNode } from "react";
import { Link } from "react-router";
import { api } from "../../convex/_generated/api";
import { Card } from "./Card";
import { Badge } from "./Badge";
import { Loading } from "./Loading";
import { ErrorNotice } from "./ErrorNotice";
import { RelativeTime } from "./RelativeTime";
import { CodeBlock, CopyField } from "./CodeBlock";
import { useViewer } from "../viewer/ViewerContext";
import { PlanOption } from "./PlanOption";
import { PLAN_IDS, PLANS } from "../lib/plans";
import { formatDate } from "../lib/format";
import { curlSnippet, proxyBaseUrl, sdkSnippet } from "../lib/snippets";
import { useAsyncAction } from "../lib/useAsyncAction";
import type { OnboardingProgress } from "../lib/signup";

type StepId = "key" | "dex" | "request" | "plan";

/**
 * The dashboard's first-visit guide: your key, paste it into Dex, a first request, a plan.
 * Each step's state comes from `signup.onboarding.progress`, a live query, so the request
 * step turns green the moment the first usage event lands. Hidden with "Hide guide" (stored
 * on the account), brought back with `ShowSetupGuideButton`.
 */
export function SetupGuide() {
  const progress = useQuery(api.signup.onboarding.progress, {});
  const hide = useDismissal(true);
  const allDone =
    progress !== undefined && progress.hasLiveKey && progress.firstRequestAt !== null && progress.onPaidPlan;
  return (
    <Card
      title={allDone ? "You're all set" : "Set up Poindexter"}
      testId="setup-guide"
      className="setup-guide"
      actions={
        <button type="button" className="button button-small" onClick={hide.run} disabled={hide.pending}>
          {allDone ? "Close the guide" : "Hide guide"}
        </button>
      }
    >
      {hide.error !== null && <ErrorNotice error={hide.error} compact />}
      {progress === undefined ? <Loading label="Checking your setup…" /> : <Steps progress={progress} />}
    </Card>
  );
}

/** Brings the guide back after it was hidden. */
export function ShowSetupGuideButton() {
  const show = useDismissal(false);
  return (
    <>
      <button type="button" className="button" onClick={show.run} disabled={show.pending}>
        Show setup guide
      </button>
      {show.error !== null && <ErrorNotice error={show.error} compact />}
    </>
  );
}

function useDismissal(dismissed: boolean) {
  const dismiss = useMutation(api.signup.onboarding.dismiss);
  const { pending, error, run } = useAsyncAction();
  return {
    pending,
    error,
    run: () => void run(async () => void (await dismiss({ dismissed }))),
  };
}

function Steps({ progress }: { progress: OnboardingProgress }) {
  const viewer = useViewer();
  const baseUrl = proxyBaseUrl();
  const requested = progress.firstRequestAt !== null;
  const done: Record<StepId, boolean> = {
    key: progress.hasLiveKey,
    // Nothing reports what Dex is configured with; a request made with the key shows it is set up.
    dex: requested,
    request: requested,
    plan: progress.onPaidPlan,
  };
  const order: StepId[] = ["key", "dex", "request", "plan"];
  const current = order.find((id) => !done[id]);
  const count = order.filter((id) => done[id]).length;

  return (
    <>
      <p className="muted setup-count" data-testid="setup-count">
        {count} of {order.length} done
      </p>
      <ol className="setup-steps">
        <Step n={1} id="key" title="Your API key" done={done.key} current={current === "key"}>
          {done.key ? (
            <p>
              You have a working key: the one shown when you signed up. Rotate it, revoke it or make more on the{" "}
              <Link to="/keys">API keys</Link> page.
            </p>
          ) : (
            <p>
              You have no working key. Create one on the <Link to="/keys">API keys</Link> page; its secret is
              shown once, when it is created.
            </p>
          )}
        </Step>

        <Step n={2} id="dex" title="Paste it into Dex" done={done.dex} current={current === "dex"}>
          <p>In your Dex instance&apos;s settings, set Poindexter as its OpenAI-compatible provider: this base URL and your key.</p>
          <CopyField label="Base URL" value={baseUrl} testId="setup-base-url" />
        </Step>

        <Step
          n={3}
          id="request"
          title="Make a first request"
          done={done.request}
          current={current === "request"}
          status={
            requested ? (
              <Badge tone="success" testId="setup-request-status">
                <span className="live-dot" aria-hidden="true" />
                Live
              </Badge>
            ) : (
              <Badge tone="info" testId="setup-request-status">
                <span className="waiting-dot" aria-hidden="true" />
                Waiting
              </Badge>
            )
          }
        >
          {progress.firstRequestAt !== null ? (
            <p data-testid="setup-first-request">
              Your first request arrived <RelativeTime at={progress.firstRequestAt} />. Requests and tokens show up
              below and on the <Link to="/usage">Usage</Link> page as they happen.
            </p>
          ) : (
            <>
              <p>
                Ask Dex anything, or send a request yourself with your key. This step turns green the moment it
                arrives; no need to reload.
              </p>
              <CodeBlock code={curlSnippet(baseUrl)} label="curl" />
              <details className="more-examples">
                <summary>The same request with the OpenAI SDK (JavaScript)</summary>
                <CodeBlock code={sdkSnippet(baseUrl)} label="JavaScript (openai)" />
              </details>
            </>
          )}
        </Step>

        <Step n={4} id="plan" title="Choose a plan" done={done.plan} current={current === "plan"}>
          {done.plan ? (
            <p>
              You are on the <strong>{PLANS[viewer.plan].name}</strong> plan. Thank you! Your subscription and invoices
              are on the <Link to="/billing">Billing</Link> page.
            </p>
          ) : (
            <>
              <p data-testid="setup-plan-lead">
                {viewer.state === "trial" && viewer.trialEndsAt !== undefined
                  ? `Your free trial ends on ${formatDate(viewer.trialEndsAt)}. `
                  : ""}
                Choose Basic or Pro on the <Link to="/billing">Billing</Link> page: you pay in a secure checkout and
                the plan applies as soon as the payment is confirmed.
              </p>
              <ul className="plan-options" aria-label="Plans">
                {PLAN_IDS.map((id) => (
                  <PlanOption key={id} plan={PLANS[id]} current={viewer.plan === id} />
                ))}
              </ul>
              <p className="setup-step-action">
                <Link to="/billing" className="button button-primary" data-testid="setup-choose-plan">
                  Choose a plan
                </Link>
              </p>
            </>
          )}
        </Step>
      </ol>
    </>
  );
}

function Step({
  n,
  id,
  title,
  done,
  current,
  status,
  children,
}: {
  n: number;
  id: StepId;
  title: string;
  done: boolean;
  current: boolean;
  /** Replaces the default Done / Next / To do badge. */
  status?: ReactNode;
  children: ReactNode;
}) {
  const className = ["setup-step", done ? "is-done" : "", current ? "is-current" : ""].filter(Boolean).join(" ");
  return (
    <li className={className} data-testid={`setup-step-${id}`} data-done={done}>
      <span className="setup-step-marker" aria-hidden="true">
        {done ? "✓" : n}
      </span>
      <div className="setup-step-body">
        <div className="setup-step-heading">
          <h3>
            {title}
            <span className="visually-hidden">{done ? " (done)" : " (not done yet)"}</span>
          </h3>
          {status ??
            (done ? (
              <Badge tone="success">Done</Badge>
            ) : current ? (
              <Badge tone="info">Next</Badge>
            ) : (
              <Badge>To do</Badge>
            ))}
        </div>
        {children}
      </div>
    </li>
  );
}

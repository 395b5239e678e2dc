import { useAction, useMutation, useQuery } from "convex/react";
import { useEffect, useRef, useState } from "react";
import { Link, useSearchParams } from "react-router";
import { api } from "../../convex/_generated/api";
import { ConsentScreen } from "../components/oauth/ConsentScreen";
import { ScopeList } from "../components/oauth/ScopeList";
import { ErrorNotice } from "../components/ErrorNotice";
import { Loading } from "../components/Loading";
import { approvesOnReturn, checkoutReturnOf, connectParamsOf, type ConnectParams } from "../components/oauth/connectRequest";
import { PLANS } from "../lib/plans";
import { formatMoney } from "../lib/format";
import { useAsyncAction } from "../lib/useAsyncAction";
import { useViewer } from "../viewer/ViewerContext";

/**
 * /connect, the OAuth authorization endpoint a Dex instance opens. Signed out, the app's sign-in
 * screen shows at this same URL, so the request survives sign-in and signup. The server checks
 * the request (convex/oauth/consent.ts) before anything is shown; a bad client_id or redirect_uri
 * is reported here and nothing is sent anywhere. A trial account chooses a plan and comes back
 * here from checkout; a new customer's request is then approved without asking twice.
 */
export function ConnectPage() {
  const [search] = useSearchParams();
  const params = connectParamsOf(search);
  const described = useQuery(api.oauth.consent.describe, { params });
  const checkout = checkoutReturnOf(search);

  if (described === undefined) {
    return (
      <ConsentScreen title="Connect a Dex instance" testId="connect-page">
        <Loading label="Checking the request…" />
      </ConsentScreen>
    );
  }
  if (described.status === "invalid") {
    return (
      <ConsentScreen title="This connection link does not work" testId="connect-page">
        <div className="notice notice-critical" role="alert" data-testid="connect-error">
          <p>{described.description}</p>
        </div>
        {described.returnUrl !== null ? (
          <div className="button-row">
            <button type="button" className="button" onClick={() => window.location.assign(described.returnUrl!)} data-testid="connect-return">
              Return to the instance
            </button>
          </div>
        ) : (
          <p className="muted">Start connecting again from your Dex instance.</p>
        )}
      </ConsentScreen>
    );
  }
  return (
    <ConsentScreen title="Authorize a Dex instance" testId="connect-page">
      <p>
        <strong data-testid="connect-instance">{described.instanceId}</strong> wants to connect to your account.
      </p>
      <p className="muted small">
        It will receive its tokens at <code data-testid="connect-redirect">{described.redirectUri}</code>.
      </p>
      <p>This will allow the instance to:</p>
      <ScopeList scopes={described.scopes} />
      {described.readiness === "blocked" && (
        <>
          <div className="notice notice-critical" role="alert" data-testid="connect-blocked">
            <p>Your account is suspended, so no instance can connect. Contact support.</p>
          </div>
          <Decision params={params} instanceId={described.instanceId} canApprove={false} autoApprove={false} />
        </>
      )}
      {described.readiness === "needs_plan" &&
        (checkout === "success" ? (
          <div className="notice notice-info" role="status" aria-live="polite" data-testid="connect-awaiting-payment">
            <p>Payment received. Waiting for the confirmation; this page continues by itself.</p>
          </div>
        ) : (
          <ChoosePlan params={params} instanceId={described.instanceId} canceled={checkout === "canceled"} />
        ))}
      {described.readiness === "ready" && (
        <Decision
          params={params}
          instanceId={described.instanceId}
          canApprove
          autoApprove={approvesOnReturn(described.pendingSince, Date.now())}
        />
      )}
    </ConsentScreen>
  );
}

function Decision({
  params,
  instanceId,
  canApprove,
  autoApprove,
}: {
  params: ConnectParams;
  instanceId: string;
  canApprove: boolean;
  autoApprove: boolean;
}) {
  const approve = useMutation(api.oauth.consent.approve);
  const deny = useMutation(api.oauth.consent.deny);
  const [leaving, setLeaving] = useState<"approve" | "deny" | null>(null);
  const { pending, error, run } = useAsyncAction();
  const started = useRef(false);

  async function decide(choice: "approve" | "deny") {
    await run(async () => {
      const { redirectUrl } = await (choice === "approve" ? approve({ params }) : deny({ params }));
      setLeaving(choice);
      // The URL comes from the server, built on the redirect URI it validated.
      window.location.assign(redirectUrl);
    });
  }

  // Signup + connect: back from checkout as a new customer, this request was chosen already.
  useEffect(() => {
    if (!autoApprove || started.current) return;
    started.current = true;
    void decide("approve");
  });

  if (leaving !== null) {
    return (
      <div className="notice notice-success" role="status" data-testid="connect-leaving">
        <p>{leaving === "approve" ? `Connected. Returning to ${instanceId}…` : `Declined. Returning to ${instanceId}…`}</p>
      </div>
    );
  }
  return (
    <>
      {autoApprove && pending && <Loading label={`Connecting ${instanceId}…`} />}
      {error !== null && <ErrorNotice error={error} compact />}
      <div className="button-row">
        {canApprove && (
          <button type="button" className="button button-primary" disabled={pending} onClick={() => void decide("approve")} data-testid="connect-authorize">
            {pending ? "Authorizing…" : "Authorize"}
          </button>
        )}
        <button type="button" className="button" disabled={pending} onClick={() => void decide("deny")} data-testid="connect-cancel">
          Cancel
        </button>
      </div>
    </>
  );
}

function ChoosePlan({ params, instanceId, canceled }: { params: ConnectParams; instanceId: string; canceled: boolean }) {
  const viewer = useViewer();
  const startCheckout = useAction(api.oauth.checkout.start);
  const [pendingPlan, setPendingPlan] = useState<"basic" | "pro" | null>(null);
  const { error, run } = useAsyncAction();

  async function choose(plan: "basic" | "pro") {
    setPendingPlan(plan);
    const ok = await run(async () => {
      const { url } = await startCheckout({ plan, params });
      window.location.assign(url);
    });
    if (!ok) setPendingPlan(null);
  }

  return (
    <>
      <div className="notice notice-info" role="status" data-testid="connect-needs-plan">
        <p>
          {canceled
            ? "Checkout was canceled. "
            : viewer.state === "trial"
              ? "Your trial does not include connected instances. "
              : "Your account has no active plan. "}
          Choose a plan to connect {instanceId}; you come back here after paying.
        </p>
      </div>
      {error !== null && <ErrorNotice error={error} compact />}
      <div className="button-row">
        {(["basic", "pro"] as const).map((id) => (
          <button
            key={id}
            type="button"
            className="button button-primary"
            disabled={pendingPlan !== null}
            onClick={() => void choose(id)}
            data-testid={`connect-choose-${id}`}
          >
            {pendingPlan === id ? "Opening checkout…" : `${PLANS[id].name}, ${formatMoney(PLANS[id].priceMicrosPerMonth)}/month`}
          </button>
        ))}
      </div>
      <p className="muted small">
        Compare the plans on the <Link to="/billing">Billing page</Link>.
      </p>
      <Decision params={params} instanceId={instanceId} canApprove={false} autoApprove={false} />
    </>
  );
}

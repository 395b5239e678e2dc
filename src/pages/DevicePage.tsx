import { useMutation, useQuery } from "convex/react";
import { useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router";
import { api } from "../../convex/_generated/api";
import { normalizeUserCode } from "../../convex/model/oauth/secrets";
import { ConsentScreen } from "../components/oauth/ConsentScreen";
import { ScopeList } from "../components/oauth/ScopeList";
import { ErrorNotice } from "../components/ErrorNotice";
import { Loading } from "../components/Loading";
import { TextField } from "../components/TextField";
import { useAsyncAction } from "../lib/useAsyncAction";
import { useNow } from "../lib/useNow";

/**
 * /device, the verification page of the device flow (RFC 8628): a headless instance shows a code
 * and this address; the signed-in person types the code (or follows the link that carries it),
 * sees which instance asks for what, and approves or declines. The instance's polling then ends.
 */
export function DevicePage() {
  const [search] = useSearchParams();
  const [typed, setTyped] = useState(search.get("user_code") ?? "");
  const [entered, setEntered] = useState<string | null>(normalizeUserCode(search.get("user_code") ?? ""));

  function submit(event: FormEvent) {
    event.preventDefault();
    setEntered(normalizeUserCode(typed) ?? typed);
  }

  return (
    <ConsentScreen title="Connect a device" testId="device-page">
      <form className="inline-form" onSubmit={submit}>
        <TextField
          id="device-code"
          label="Code shown by your instance"
          value={typed}
          onChange={(value) => {
            setTyped(value);
            setEntered(null);
          }}
          placeholder="BCDF-GHJK"
          maxLength={16}
          grow
        />
        <button type="submit" className="button button-primary" disabled={typed.trim() === ""} data-testid="device-continue">
          Continue
        </button>
      </form>
      {entered !== null && <DeviceRequest userCode={entered} />}
    </ConsentScreen>
  );
}

function DeviceRequest({ userCode }: { userCode: string }) {
  const found = useQuery(api.oauth.device.lookup, { userCode });
  const decide = useMutation(api.oauth.device.decide);
  const now = useNow(5_000);
  const { pending, error, run } = useAsyncAction();
  const [outcome, setOutcome] = useState<{ approved: boolean; instanceId: string } | null>(null);

  if (found === undefined) return <Loading label="Looking up the code…" />;
  if (found.status === "malformed") {
    return (
      <p className="notice notice-warning" role="alert" data-testid="device-malformed">
        A code is 8 letters, like BCDF-GHJK. Check what your instance shows.
      </p>
    );
  }
  if (found.status === "not_found") {
    return (
      <p className="notice notice-warning" role="alert" data-testid="device-not-found">
        No instance is waiting for this code. Check the code, or start again on the instance.
      </p>
    );
  }
  if (outcome !== null || found.status !== "pending") {
    const approved = outcome?.approved ?? found.status !== "denied";
    return (
      <div className="notice notice-success" role="status" data-testid="device-done">
        <p>
          {approved
            ? `${found.instanceId} is connected; it picks up its access within a few seconds. You can close this page.`
            : `You declined ${found.instanceId}.`}{" "}
          <Link to="/instances">Your instances</Link>
        </p>
      </div>
    );
  }
  if (found.expiresAt <= now) {
    return (
      <p className="notice notice-warning" role="alert" data-testid="device-expired">
        This code expired (codes last 10 minutes). Start again on the instance for a new one.
      </p>
    );
  }

  async function choose(approve: boolean) {
    await run(async () => setOutcome(await decide({ userCode, approve })));
  }

  return (
    <div data-testid="device-request">
      <p>
        <strong data-testid="device-instance">{found.instanceId}</strong> wants to connect to your account with the code{" "}
        <code>{found.userCode}</code>. Approve only if your instance shows this same code.
      </p>
      <p>This will allow the instance to:</p>
      <ScopeList scopes={found.scopes} />
      {error !== null && <ErrorNotice error={error} compact />}
      <div className="button-row">
        <button type="button" className="button button-primary" disabled={pending} onClick={() => void choose(true)} data-testid="device-approve">
          {pending ? "Saving…" : "Approve"}
        </button>
        <button type="button" className="button" disabled={pending} onClick={() => void choose(false)} data-testid="device-deny">
          Decline
        </button>
      </div>
    </div>
  );
}

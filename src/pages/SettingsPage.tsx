import { useConvex, useMutation } from "convex/react";
import { useState, type FormEvent } from "react";
import { api } from "../../convex/_generated/api";
import { PageHeader } from "../components/PageHeader";
import { Card } from "../components/Card";
import { TextField } from "../components/TextField";
import { ErrorNotice } from "../components/ErrorNotice";
import { useAsyncAction } from "../lib/useAsyncAction";
import { useAuthMethod } from "../auth/AuthMethodContext";
import { useViewer } from "../viewer/ViewerContext";
import { plural } from "../lib/format";

/**
 * The export's bounds, as convex/privacy/export.ts sets them: each list of the account part holds
 * at most 1,000 rows (marked `truncated` beyond), usage events come in pages of 1,000 and are all
 * fetched, up to MAX_USAGE_PAGES pages (a million events) so a runaway history cannot hang the tab.
 */
const MAX_USAGE_PAGES = 1000;

/**
 * Settings: "Download my data" (a JSON file of everything the account holds) and "Delete my
 * account", which asks for the account's email typed out before the button works, says what
 * happens and what is kept, and signs the person out once the deletion has started.
 */
export function SettingsPage() {
  return (
    <div className="page">
      <PageHeader title="Settings" description="Your data and your account." />
      <DownloadCard />
      <DeleteCard />
    </div>
  );
}

function DownloadCard() {
  const convex = useConvex();
  const { pending, error, run } = useAsyncAction();
  const [progress, setProgress] = useState<string | null>(null);

  async function download() {
    await run(async () => {
      setProgress("Reading your account…");
      const account = JSON.parse((await convex.query(api.privacy.export.mine, { part: "account", cursor: null })).json) as Record<string, unknown>;
      const usageEvents: unknown[] = [];
      let cursor: string | null = null;
      for (let page = 0; page < MAX_USAGE_PAGES; page++) {
        const part: { json: string; nextCursor: string | null } = await convex.query(api.privacy.export.mine, { part: "usageEvents", cursor });
        usageEvents.push(...(JSON.parse(part.json) as unknown[]));
        setProgress(`Reading your usage history… ${plural(usageEvents.length, "request")}`);
        cursor = part.nextCursor;
        if (cursor === null) break;
      }
      const file = { exportedAt: new Date().toISOString(), ...account, usageEvents, usageEventsComplete: cursor === null };
      const blob = new Blob([JSON.stringify(file, null, 2)], { type: "application/json" });
      const url = URL.createObjectURL(blob);
      const a = document.createElement("a");
      a.href = url;
      a.download = `poindexter-data-${new Date().toISOString().slice(0, 10)}.json`;
      document.body.appendChild(a);
      a.click();
      a.remove();
      URL.revokeObjectURL(url);
      setProgress(`Downloaded: your account and ${plural(usageEvents.length, "request")} of usage history.`);
    });
  }

  return (
    <Card title="Download my data" testId="export-card">
      <p>
        One JSON file with everything your account holds: profile, plan, subscriptions and invoices, API keys&apos; names and
        prefixes (never the secrets), usage history and its daily and monthly totals, your identity&apos;s address and number with
        the messages it received, connected instances, emails we sent you and the audit log of your account.
      </p>
      <p className="muted">Lists other than usage are capped at 1,000 rows each (the newest); the file marks any list that was cut.</p>
      <button type="button" className="button button-primary" onClick={() => void download()} disabled={pending} data-testid="export-download">
        {pending ? "Preparing…" : "Download my data"}
      </button>
      {progress !== null && (
        <p className="muted" role="status" data-testid="export-progress">
          {progress}
        </p>
      )}
      {error !== null && <ErrorNotice error={error} compact />}
    </Card>
  );
}

function DeleteCard() {
  const viewer = useViewer();
  const { signOut } = useAuthMethod();
  const deleteMine = useMutation(api.privacy.requests.deleteMine);
  const [typed, setTyped] = useState("");
  const { pending, error, run } = useAsyncAction();
  const matches = typed.trim().toLowerCase() === viewer.email.toLowerCase();
  const staff = viewer.role !== "user";

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!matches) return;
    const ok = await run(async () => {
      await deleteMine({ confirmEmail: typed.trim() });
    });
    // Access has stopped; the account's rows go over the next minutes. Nothing is left to show.
    if (ok) await signOut();
  }

  return (
    <Card title="Delete my account" testId="delete-card">
      <p>Deleting your account cannot be undone. Download your data first if you want a copy.</p>
      <ul>
        <li>Your subscription is canceled at once with the billing provider, without a refund of the current period.</li>
        <li>API keys, connected instances and their tokens stop working immediately.</li>
        <li>Your Poindexter email address, phone number and Signal registration are released, and their messages deleted.</li>
        <li>Your profile, usage history, messages, emails and sign-up records are deleted within minutes, at the latest a day later if a provider is slow to confirm.</li>
      </ul>
      <p>
        <strong>What is kept:</strong> invoices (the law requires us to keep them) and monthly usage totals, under a random
        identifier that cannot be traced back to you. The audit log keeps what happened and when, without your name or address.
      </p>
      <p>Signing in again later with the same login starts a new account with a new trial.</p>
      {staff ? (
        <p className="notice notice-info">Staff accounts are deleted by an admin from the support console, after the role is removed.</p>
      ) : (
        <form onSubmit={(e) => void submit(e)} className="action-form">
          <fieldset disabled={pending}>
            <TextField
              id="delete-confirm"
              label={`Type ${viewer.email} to confirm`}
              value={typed}
              onChange={setTyped}
              autoComplete="off"
              spellCheck={false}
              grow
            />
            <button type="submit" className="button button-danger-solid" disabled={!matches || pending} data-testid="delete-account">
              {pending ? "Deleting…" : "Delete my account"}
            </button>
          </fieldset>
          {error !== null && <ErrorNotice error={error} compact />}
        </form>
      )}
    </Card>
  );
}

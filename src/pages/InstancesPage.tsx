import { useMutation, useQuery } from "convex/react";
import { useState, type FormEvent } from "react";
import type { FunctionReturnType } from "convex/server";
import { api } from "../../convex/_generated/api";
import { PageHeader } from "../components/PageHeader";
import { Card } from "../components/Card";
import { DataTable, type Column } from "../components/DataTable";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { TextField } from "../components/TextField";
import { ErrorNotice } from "../components/ErrorNotice";
import { RelativeTimeWithDate } from "../components/RelativeTime";
import { grantColumns } from "../components/oauth/grantColumns";
import { useAsyncAction } from "../lib/useAsyncAction";

type Grant = FunctionReturnType<typeof api.oauth.instances.mine>[number];
type RedirectRow = FunctionReturnType<typeof api.oauth.instances.redirectUris>[number];

/**
 * The Dex instances connected to this account (one grant each), with Disconnect, which ends the
 * instance's tokens at once; and the https redirect URLs registered for instances that are not
 * on a loopback or Tailscale address.
 */
export function InstancesPage() {
  const grants = useQuery(api.oauth.instances.mine, {});
  const [disconnecting, setDisconnecting] = useState<Grant | null>(null);
  const disconnect = useMutation(api.oauth.instances.disconnect);
  const c = grantColumns<Grant>();
  const actions: Column<Grant> = {
    header: "Actions",
    hideHeader: true,
    className: "cell-actions",
    cell: (g) => (
      <button type="button" className="button button-small button-danger" onClick={() => setDisconnecting(g)} data-testid="instance-disconnect">
        Disconnect
      </button>
    ),
  };

  return (
    <div className="page">
      <PageHeader
        title="Instances"
        description="Dex instances connected to your account. Connect one from its onboarding screen (Connect to Poindexter Cloud)."
      />
      <Card title="Connected instances">
        <DataTable
          columns={[c.instance, c.scopes, c.connected, c.lastUsed, c.lastIp, actions]}
          rows={grants}
          loadingLabel="Loading instances…"
          empty={{
            title: "No instances connected",
            body: "In your Dex instance, choose Connect to Poindexter Cloud; it opens a page here to authorize it.",
          }}
          caption="Connected instances"
          testId="instances-table"
          rowTestId="instance-row"
        />
      </Card>
      <RedirectUrisCard />
      <ConfirmDialog
        open={disconnecting !== null}
        title={`Disconnect ${disconnecting?.instanceId ?? ""}?`}
        confirmLabel="Disconnect"
        pendingLabel="Disconnecting…"
        tone="danger"
        onClose={() => setDisconnecting(null)}
        onConfirm={async () => {
          if (!disconnecting) return;
          await disconnect({ instanceId: disconnecting.instanceId });
          setDisconnecting(null);
        }}
        testId="disconnect-dialog"
      >
        <p>Its access ends now: its next request fails, and it must be connected again to use your account.</p>
      </ConfirmDialog>
    </div>
  );
}

function RedirectUrisCard() {
  const uris = useQuery(api.oauth.instances.redirectUris, {});
  const add = useMutation(api.oauth.instances.addRedirectUri);
  const remove = useMutation(api.oauth.instances.removeRedirectUri);
  const [uri, setUri] = useState("");
  const adding = useAsyncAction();
  const removing = useAsyncAction();

  async function submit(event: FormEvent) {
    event.preventDefault();
    const ok = await adding.run(async () => {
      await add({ uri: uri.trim() });
    });
    if (ok) setUri("");
  }

  const columns: Column<RedirectRow>[] = [
    { header: "URL", cell: (r) => <code>{r.uri}</code> },
    { header: "Added", cell: (r) => <RelativeTimeWithDate at={r.createdAt} /> },
    {
      header: "Actions",
      hideHeader: true,
      className: "cell-actions",
      cell: (r) => (
        <button
          type="button"
          className="button button-small button-danger"
          disabled={removing.pending}
          onClick={() =>
            void removing.run(async () => {
              await remove({ uri: r.uri });
            })
          }
        >
          Remove
        </button>
      ),
    },
  ];

  return (
    <Card title="Redirect URLs">
      <p className="muted small">
        Instances on <code>http://127.0.0.1</code>, <code>http://[::1]</code> or a Tailscale <code>https://….ts.net</code> address
        connect without registering. An instance at any other https address needs its exact callback URL here.
      </p>
      <form className="inline-form" onSubmit={submit}>
        <TextField
          id="redirect-uri"
          label="Callback URL"
          type="url"
          value={uri}
          onChange={setUri}
          placeholder="https://dex.example.com/oauth/callback"
          grow
        />
        <button type="submit" className="button button-primary" disabled={adding.pending || uri.trim() === ""} data-testid="redirect-add">
          {adding.pending ? "Adding…" : "Add"}
        </button>
      </form>
      {adding.error !== null && <ErrorNotice error={adding.error} compact />}
      {removing.error !== null && <ErrorNotice error={removing.error} compact />}
      <DataTable
        columns={columns}
        rows={uris}
        rowKey={(r) => r.uri}
        dense
        empty={{ title: "No redirect URLs registered" }}
        caption="Registered redirect URLs"
        testId="redirect-uris"
      />
    </Card>
  );
}

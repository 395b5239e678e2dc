import { useMutation, useQuery } from "convex/react";
import type { FunctionReturnType } from "convex/server";
import { useState } from "react";
import { api } from "../../../convex/_generated/api";
import { Badge } from "../../components/Badge";
import { Card } from "../../components/Card";
import { DataTable, type Column } from "../../components/DataTable";
import { RelativeTimeWithDate } from "../../components/RelativeTime";
import { PROVIDER_LABELS } from "../../lib/credentials";
import { ActionForm } from "./ActionForm";

type Ring = FunctionReturnType<typeof api.credentials.masterKeys.list>[number];

const none = <span className="muted">—</span>;

/**
 * The deployment's master provider keys, by id (values never leave the backend), and which one
 * new requests use. Switching is zero-downtime: a request keeps the key it started with.
 */
export function MasterKeysSupport() {
  const rings = useQuery(api.credentials.masterKeys.list, {});
  const setActive = useMutation(api.credentials.masterKeys.setActive);
  const [provider, setProvider] = useState<Ring["provider"]>("openai");
  const [keyId, setKeyId] = useState("");
  const columns: Column<Ring>[] = [
    { header: "Provider", cell: (r) => PROVIDER_LABELS[r.provider] ?? r.provider },
    {
      header: "Key ids",
      cell: (r) =>
        r.configError ? (
          <span className="notice-inline critical">{r.configError}</span>
        ) : r.ids.length === 0 ? (
          <span className="muted">not configured</span>
        ) : (
          r.ids.map((id) => (
            <span key={id} className="key-id">
              {id === r.activeId ? <Badge tone="success">{id} (active)</Badge> : <code>{id}</code>}{" "}
            </span>
          ))
        ),
    },
    {
      header: "Chosen by",
      cell: (r) =>
        r.chosenId === null ? (
          <span className="muted">env ({r.envActiveId ?? "none"})</span>
        ) : (
          <>
            {r.updatedBy}
            {r.chosenIdMissing && <span className="cell-sub">'{r.chosenId}' is no longer configured: env's key is used</span>}
          </>
        ),
    },
    { header: "Switched", cell: (r) => (r.updatedAt === null ? none : <RelativeTimeWithDate at={r.updatedAt} />) },
  ];
  const ring = rings?.find((r) => r.provider === provider);
  const choices = ring?.ids ?? [];

  return (
    <Card title="Master provider keys" testId="master-keys">
      <DataTable columns={columns} rows={rings} rowKey={(r) => r.provider} dense caption="Master provider keys" empty={{ title: "No providers" }} rowTestId="master-key-row" />
      <ActionForm
        legend="Switch the active key (in-flight requests finish on theirs)"
        submitLabel="Switch"
        reasonId="master-key-reason"
        onSubmit={async (reason) => {
          const target = keyId || choices[0];
          if (!target) throw new Error(`No ${provider} keys are configured.`);
          await setActive({ provider, keyId: target, reason });
          setKeyId("");
          return `${PROVIDER_LABELS[provider]} now uses key '${target}' for new requests.`;
        }}
      >
        <div className="field">
          <label htmlFor="master-key-provider">Provider</label>
          <select id="master-key-provider" value={provider} onChange={(e) => { setProvider(e.target.value as Ring["provider"]); setKeyId(""); }}>
            {(rings ?? []).map((r) => (
              <option key={r.provider} value={r.provider}>
                {PROVIDER_LABELS[r.provider] ?? r.provider}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="master-key-id">Key id</label>
          <select id="master-key-id" value={keyId || choices[0] || ""} onChange={(e) => setKeyId(e.target.value)}>
            {choices.map((id) => (
              <option key={id} value={id}>
                {id}
              </option>
            ))}
          </select>
        </div>
      </ActionForm>
    </Card>
  );
}

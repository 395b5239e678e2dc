import { useMutation, useQuery } from "convex/react";
import { useState } from "react";
import { api } from "../../../convex/_generated/api";
import type { Id } from "../../../convex/_generated/dataModel";
import { Card } from "../../components/Card";
import { Loading } from "../../components/Loading";
import { EmptyState } from "../../components/EmptyState";
import { SecretReveal } from "../../components/SecretReveal";
import { ActionForm } from "./ActionForm";
import { SelectField } from "./SelectField";

type Action = "revoke" | "rotate" | "rotate_now";
const ACTIONS: readonly Action[] = ["revoke", "rotate", "rotate_now"];
const ACTION_LABELS: Record<Action, string> = {
  revoke: "Revoke now",
  rotate: "Rotate (old key works 24 h more)",
  rotate_now: "Rotate and revoke the old key now",
};

/**
 * Support's actions on one of the account's working keys: revoke it, or rotate it (a new key
 * with the same name; its secret is shown here once, to hand over through a channel you trust).
 * Each needs a reason for the audit log.
 */
export function KeyActions({ userId }: { userId: Id<"users"> }) {
  const detail = useQuery(api.admin.accounts.get, { userId });
  const revoke = useMutation(api.admin.keys.revoke);
  const rotate = useMutation(api.admin.keys.rotate);
  const [keyId, setKeyId] = useState<string>("");
  const [action, setAction] = useState<Action>("revoke");
  const [secret, setSecret] = useState<string | null>(null);
  if (detail === undefined) {
    return (
      <Card title="Key actions">
        <Loading label="Loading keys…" />
      </Card>
    );
  }
  const working = detail.keys.filter((k) => k.status === "active");
  const labels = Object.fromEntries(working.map((k) => [k._id, `${k.name} (${k.prefix}…)`]));
  const chosen = working.some((k) => k._id === keyId) ? keyId : (working[0]?._id ?? "");
  return (
    <Card title="Key actions" testId="key-actions">
      {working.length === 0 ? (
        <EmptyState title="No working keys">Every key of this account is revoked or rotated.</EmptyState>
      ) : (
        <ActionForm
          legend="Revoke or rotate a key"
          submitLabel={action === "revoke" ? "Revoke key" : "Rotate key"}
          danger={action !== "rotate"}
          reasonId="key-action-reason"
          onSubmit={async (reason) => {
            const target = chosen as Id<"apiKeys">;
            if (action === "revoke") {
              await revoke({ userId, keyId: target, reason });
              return "Key revoked: requests with it are refused from now on.";
            }
            const made = await rotate({ userId, keyId: target, reason, ...(action === "rotate_now" ? { graceHours: 0 } : {}) });
            setSecret(made.secret);
            return `Rotated: the new key is ${made.prefix}…`;
          }}
        >
          <SelectField id="key-action-key" label="Key" choices={working.map((k) => k._id)} value={chosen} onChange={setKeyId} describe={(id) => labels[id] ?? id} />
          <SelectField id="key-action" label="Action" choices={ACTIONS} value={action} onChange={setAction} describe={(a) => ACTION_LABELS[a]} />
        </ActionForm>
      )}
      {secret !== null && (
        <div data-testid="rotated-secret">
          <SecretReveal secret={secret} />
          <button type="button" className="button button-small" onClick={() => setSecret(null)}>
            Handed over
          </button>
        </div>
      )}
    </Card>
  );
}

// Columns of a provider-credential listing, shared by the customer's credentials card and the
// support console, so a credential reads the same in both.
import { CREDENTIAL_STATUS, type CredentialStatus, PROVIDER_LABELS, SCOPE_LABELS } from "../lib/credentials";
import { Badge } from "./Badge";
import type { Column } from "./DataTable";

interface CredentialLine {
  provider: string;
  scopes: readonly string[];
  status: CredentialStatus;
  revokedReason?: string;
}

/** Provider, scopes and status; `statusTestId` names the status cell for the browser tests. */
export function credentialColumns<C extends CredentialLine>(statusTestId: string) {
  return {
    provider: { header: "Provider", cell: (c) => PROVIDER_LABELS[c.provider] ?? c.provider },
    scopes: { header: "Scopes", cell: (c) => c.scopes.map((s) => SCOPE_LABELS[s] ?? s).join(", ") },
    status: {
      header: "Status",
      cell: (c) => (
        <span data-testid={statusTestId}>
          <Badge tone={CREDENTIAL_STATUS[c.status].tone}>{CREDENTIAL_STATUS[c.status].label}</Badge>
          {c.revokedReason && <span className="cell-sub muted">{c.revokedReason}</span>}
        </span>
      ),
    },
  } satisfies Record<string, Column<C>>;
}

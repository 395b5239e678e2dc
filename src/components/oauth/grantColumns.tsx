import type { Column } from "../DataTable";
import { RelativeTimeWithDate } from "../RelativeTime";

/** What the Instances page and support's grants table both show of a grant. */
export interface GrantLine {
  instanceId: string;
  scopes: string[];
  via: "authorization_code" | "device";
  createdAt: number;
  lastUsedAt: number | null;
  lastIp: string | null;
}

export function grantColumns<Row extends GrantLine>(): {
  instance: Column<Row>;
  scopes: Column<Row>;
  connected: Column<Row>;
  lastUsed: Column<Row>;
  lastIp: Column<Row>;
} {
  return {
    instance: {
      header: "Instance",
      cell: (g) => (
        <>
          <code>{g.instanceId}</code>
          {g.via === "device" && <span className="muted small"> (device code)</span>}
        </>
      ),
    },
    scopes: { header: "Scopes", cell: (g) => <span className="small">{g.scopes.join(", ")}</span> },
    connected: { header: "Connected", cell: (g) => <RelativeTimeWithDate at={g.createdAt} /> },
    lastUsed: {
      header: "Last used",
      cell: (g) => (g.lastUsedAt === null ? <span className="muted">Never</span> : <RelativeTimeWithDate at={g.lastUsedAt} />),
    },
    lastIp: { header: "Last IP", cell: (g) => (g.lastIp === null ? <span className="muted">—</span> : <code>{g.lastIp}</code>) },
  };
}

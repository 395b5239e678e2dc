import { Badge } from "./Badge";
import type { KeyStatus } from "../lib/apiTypes";

const LOOK: Record<KeyStatus, { label: string; tone: "success" | "warning" | "neutral" }> = {
  active: { label: "Active", tone: "success" },
  grace: { label: "Grace period", tone: "warning" },
  revoked: { label: "Revoked", tone: "neutral" },
};

export function KeyStatusBadge({ status }: { status: KeyStatus }) {
  const look = LOOK[status] ?? { label: status, tone: "neutral" as const };
  return (
    <Badge tone={look.tone} testId="key-status">
      {look.label}
    </Badge>
  );
}

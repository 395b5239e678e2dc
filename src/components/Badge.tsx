import type { ReactNode } from "react";
import type { Tone } from "../lib/accountState";

export function Badge({
  tone = "neutral",
  children,
  testId,
  title,
}: {
  tone?: Tone;
  children: ReactNode;
  testId?: string;
  title?: string;
}) {
  return (
    <span className={`badge badge-${tone}`} data-testid={testId} title={title}>
      {children}
    </span>
  );
}

/**
 * A status from one of the label tables (lib/billing.ts, lib/signup.ts, lib/overage.ts) as a badge,
 * in a span the browser tests find it by; `children` follow the badge inside it (a detail line).
 */
export function StatusBadge({
  status,
  testId,
  children,
}: {
  status: { label: string; tone: Tone };
  testId: string;
  children?: ReactNode;
}) {
  return (
    <span data-testid={testId}>
      <Badge tone={status.tone}>{status.label}</Badge>
      {children}
    </span>
  );
}

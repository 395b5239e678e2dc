import { Badge } from "./Badge";
import { stateInfo } from "../lib/accountState";

export function StateBadge({ state, testId }: { state: string; testId?: string }) {
  const info = stateInfo(state);
  return (
    <Badge tone={info.tone} testId={testId} title={info.explanation}>
      {info.label}
    </Badge>
  );
}

import { formatPercent } from "../lib/format";

/**
 * Used vs included as a bar. `held` is quota reserved by requests still running;
 * it is drawn after the used part so a burst of traffic is visible before it settles.
 */
export function Meter({
  used,
  held = 0,
  included,
  label,
}: {
  used: number;
  held?: number;
  included: number;
  label: string;
}) {
  const safe = Math.max(included, 1);
  const usedPct = Math.min(100, (used / safe) * 100);
  const heldPct = Math.min(100 - usedPct, (held / safe) * 100);
  const tone = used >= included ? "critical" : usedPct >= 80 ? "warning" : "ok";
  return (
    <div
      className={`meter meter-${tone}`}
      role="meter"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={included}
      aria-valuenow={Math.min(used, included)}
      aria-valuetext={`${formatPercent((used / safe) * 100)} of included tokens used`}
    >
      <div className="meter-used" style={{ width: `${usedPct}%` }} />
      {heldPct > 0 && <div className="meter-held" style={{ width: `${heldPct}%` }} />}
    </div>
  );
}

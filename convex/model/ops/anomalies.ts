// Fraud and abuse heuristics on usage and signups: thresholds and verdicts. Pure; the
// evaluator (ops/alerts.ts) gathers the numbers from its folds and acts on the verdicts.
//
//   key_usage_spike  a key's tokens in one hour > max(floor, 10 x the p95 of its own hourly
//                    tokens over the previous 7 days, idle hours counted as 0); judged only once
//                    the key has a day of history, so a new key's first busy hour is not fraud.
//   key_many_ips     one key used from >= 5 distinct client IPs (as HMACs) within 10 minutes.
//   signup_burst     >= 50 signup attempts in 10 minutes from everyone, or >= 5 from one IP.

export type AnomalyRule = "key_usage_spike" | "key_many_ips" | "signup_burst";
export type AnomalyAction = "alert" | "alert_and_suspend";

const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;

export const KEY_SPIKE = {
  /** How far above the baseline an hour must be. */
  factor: 10,
  /** Below this many tokens in an hour nothing is judged, whatever the baseline (a quiet key's first real use). */
  floorTokens: 100_000,
  /** The trailing baseline, in hours. */
  baselineHours: 7 * 24,
  /** Hours of history a key needs before its baseline means anything. */
  minHistoryHours: 24,
  /** The baseline's quantile of hourly tokens. */
  quantile: 0.95,
} as const;

export const MANY_IPS = { windowMs: 10 * MINUTE, minDistinct: 5 } as const;

export const SIGNUP_BURST = { windowMs: 10 * MINUTE, minGlobal: 50, minPerIp: 5 } as const;

export function hourOf(at: number): number {
  return Math.floor(at / HOUR) * HOUR;
}

/** Nearest-rank quantile of the values (0 when empty). */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)];
}

export type AnomalyVerdict = { firing: boolean; message: string };

export interface SpikeInput {
  /** Tokens the key used in the hour being judged. */
  hourTokens: number;
  hour: number;
  /** The key's earlier hourly totals within the baseline window (hours without use absent). */
  history: readonly { hour: number; tokens: number }[];
  /** The first hour the key was seen using tokens (its oldest hourly row). */
  firstSeenHour: number;
  keyLabel: string;
}

/** key_usage_spike for one key and hour. */
export function spikeVerdict(input: SpikeInput): AnomalyVerdict {
  const { hourTokens, hour, keyLabel } = input;
  if (hourTokens <= KEY_SPIKE.floorTokens) {
    return { firing: false, message: `${keyLabel} used ${hourTokens} tokens this hour (floor ${KEY_SPIKE.floorTokens}).` };
  }
  const windowStart = hour - KEY_SPIKE.baselineHours * HOUR;
  const historyHours = Math.min(KEY_SPIKE.baselineHours, Math.max(0, Math.round((hour - Math.max(input.firstSeenHour, windowStart)) / HOUR)));
  if (historyHours < KEY_SPIKE.minHistoryHours) {
    return { firing: false, message: `${keyLabel} has ${historyHours} h of history (needs ${KEY_SPIKE.minHistoryHours} h for a baseline).` };
  }
  const inWindow = input.history.filter((h) => h.hour >= windowStart && h.hour < hour).map((h) => h.tokens);
  // Idle hours are part of the key's normal: each counts as 0.
  const values = [...inWindow, ...new Array<number>(Math.max(0, historyHours - inWindow.length)).fill(0)];
  const baseline = quantile(values, KEY_SPIKE.quantile);
  const threshold = Math.max(KEY_SPIKE.floorTokens, KEY_SPIKE.factor * baseline);
  const firing = hourTokens > threshold;
  return {
    firing,
    message: `${keyLabel} used ${hourTokens.toLocaleString("en-US")} tokens in the hour from ${new Date(hour).toISOString().slice(0, 16)}Z; `
      + `its 7-day hourly p95 is ${baseline.toLocaleString("en-US")} (alert above ${threshold.toLocaleString("en-US")}).`,
  };
}

/** key_many_ips: distinct client IP hashes seen on a key within MANY_IPS.windowMs. */
export function manyIpsVerdict(distinct: number, keyLabel: string): AnomalyVerdict {
  return {
    firing: distinct >= MANY_IPS.minDistinct,
    message: `${keyLabel} was used from ${distinct} different client addresses within ${MANY_IPS.windowMs / MINUTE} minutes (alert at ${MANY_IPS.minDistinct}).`,
  };
}

export interface SignupBurst {
  /** "global", or "ip:<first 12 hex of the IP's HMAC>". */
  subject: string;
  count: number;
  firing: boolean;
  message: string;
}

/** signup_burst over the attempts of the last SIGNUP_BURST.windowMs: everyone, and each IP hash. */
export function signupBursts(attempts: readonly { ipHash?: string }[]): SignupBurst[] {
  const minutes = SIGNUP_BURST.windowMs / MINUTE;
  const out: SignupBurst[] = [{
    subject: "global",
    count: attempts.length,
    firing: attempts.length >= SIGNUP_BURST.minGlobal,
    message: `${attempts.length} signup attempts in the last ${minutes} minutes (alert at ${SIGNUP_BURST.minGlobal}).`,
  }];
  const perIp = new Map<string, number>();
  for (const a of attempts) if (a.ipHash) perIp.set(a.ipHash, (perIp.get(a.ipHash) ?? 0) + 1);
  for (const [hash, count] of perIp) {
    if (count < SIGNUP_BURST.minPerIp) continue;
    out.push({
      subject: ipSubject(hash),
      count,
      firing: true,
      message: `${count} signup attempts from one address (ip ${hash.slice(0, 12)}…) in the last ${minutes} minutes (alert at ${SIGNUP_BURST.minPerIp}).`,
    });
  }
  return out;
}

export function ipSubject(ipHash: string): string {
  return `ip:${ipHash.slice(0, 12)}`;
}

export interface AnomalyPolicy {
  keyUsageSpike: AnomalyAction;
  keyManyIps: AnomalyAction;
}

/** Until an admin decides otherwise, anomalies only alert: suspending a paying customer's key is a choice. */
export const DEFAULT_POLICY: AnomalyPolicy = { keyUsageSpike: "alert", keyManyIps: "alert" };

export function actionFor(policy: AnomalyPolicy, rule: "key_usage_spike" | "key_many_ips"): AnomalyAction {
  return rule === "key_usage_spike" ? policy.keyUsageSpike : policy.keyManyIps;
}

/** What the key's owner reads on the Keys page and in the proxy's 403. */
export function suspensionReason(rule: "key_usage_spike" | "key_many_ips"): string {
  return rule === "key_usage_spike"
    ? "Suspended automatically: this key used far more tokens in one hour than it normally does."
    : "Suspended automatically: this key was used from many different addresses within minutes.";
}

// An API key's lifecycle: its status at a time, and how long a rotated key keeps working.
// Pure. Shared by the backend and the SPA, so both apply the same expiry and grace rules.

export type KeyStatus = "active" | "grace" | "revoked";

/** A key's status at `now`: rotated keys work until graceEndsAt, then count as revoked. */
export function keyStatus(
  key: { revokedAt?: number; graceEndsAt?: number; expiresAt?: number },
  now: number,
): KeyStatus {
  if (key.revokedAt !== undefined && key.revokedAt <= now) return "revoked";
  if (key.expiresAt !== undefined && key.expiresAt <= now) return "revoked";
  if (key.graceEndsAt !== undefined) return key.graceEndsAt > now ? "grace" : "revoked";
  return "active";
}

export const DEFAULT_ROTATION_GRACE_HOURS = 24;
/** Longest grace a caller may ask for: a rotated key should not linger for weeks. */
export const MAX_ROTATION_GRACE_HOURS = 24 * 30;

/** Grace hours from the call, else env KEY_ROTATION_GRACE_HOURS, else 24; validated. */
export function rotationGraceHours(requested: number | undefined, envValue: string | undefined): number {
  let hours = requested;
  if (hours === undefined && envValue !== undefined && envValue.trim() !== "") {
    const parsed = Number(envValue);
    if (Number.isFinite(parsed) && parsed >= 0) hours = parsed;
  }
  hours ??= DEFAULT_ROTATION_GRACE_HOURS;
  if (!Number.isFinite(hours) || hours < 0 || hours > MAX_ROTATION_GRACE_HOURS) {
    throw new RangeError(`graceHours must be between 0 and ${MAX_ROTATION_GRACE_HOURS}; got ${hours}.`);
  }
  return hours;
}

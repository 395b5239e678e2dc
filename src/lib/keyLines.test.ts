import { describe, expect, it } from "vitest";
import type { ApiKeyRow } from "./apiTypes";
import { keyEndsAt, keyLines, statusNow } from "./keyLines";

// The keys page re-derives a listed key's status with the model's rule as the clock moves:
// the row's `status` is only as fresh as the last time the list query ran.
describe("a listed key's status on screen", () => {
  const now = 1_000_000;
  const row = (fields: Partial<ApiKeyRow>): ApiKeyRow => ({
    _id: "k1" as ApiKeyRow["_id"],
    name: "Home server",
    prefix: "pk_live_abcd",
    environment: "live",
    createdAt: now - 86_400_000,
    status: "active",
    ...fields,
  });

  it("ends a grace period on screen without waiting for the query to re-run", () => {
    expect(statusNow(row({ status: "grace", graceEndsAt: now + 1 }), now)).toBe("grace");
    expect(statusNow(row({ status: "grace", graceEndsAt: now }), now)).toBe("revoked");
    expect(statusNow(row({}), now)).toBe("active");
    expect(statusNow(row({ revokedAt: now - 5 }), now)).toBe("revoked");
  });

  it("counts an expired key as revoked even when the row still says active", () => {
    expect(statusNow(row({ status: "active", expiresAt: now }), now)).toBe("revoked");
    expect(statusNow(row({ status: "active", expiresAt: now + 60_000 }), now)).toBe("active");
  });

  it("shows a key revoked a moment ago as revoked though the page's clock is behind the server's", () => {
    // revokedAt is the server's time; the page's clock last ticked five seconds earlier.
    expect(statusNow(row({ status: "revoked", revokedAt: now + 5_000 }), now)).toBe("revoked");
    // A listing without a status (the support console's) goes by the clock alone.
    const { status: _status, ...withoutStatus } = row({ revokedAt: now + 5_000 });
    expect(statusNow(withoutStatus, now)).toBe("active");
    expect(statusNow(withoutStatus, now + 5_000)).toBe("revoked");
  });

  it("pairs each key with its status and leaves a loading list undefined", () => {
    expect(keyLines(undefined, now)).toBeUndefined();
    const lines = keyLines([row({ graceEndsAt: now + 1 }), row({ revokedAt: now - 1 })], now);
    expect(lines?.map((l) => l.status)).toEqual(["grace", "revoked"]);
  });

  it("dates the end of a key at the earliest of revocation, grace end and expiry", () => {
    expect(keyEndsAt(row({}))).toBeUndefined();
    expect(keyEndsAt(row({ graceEndsAt: now + 10, revokedAt: now + 5, expiresAt: now + 20 }))).toBe(now + 5);
    expect(keyEndsAt(row({ expiresAt: now + 20 }))).toBe(now + 20);
  });
});

import { describe, expect, it } from "vitest";
import { connectReadiness } from "./consent";
import {
  accessRefusal,
  devicePoll,
  redeemCode,
  refreshOutcome,
  REFRESH_GRACE_MS,
  type StoredCode,
  type StoredDevice,
} from "./lifecycle";

const NOW = 1_800_000_000_000;
const code: StoredCode = { clientId: "dex-a1b2c3d4", redirectUri: "http://127.0.0.1:9/cb", codeChallenge: "C", expiresAt: NOW + 60_000 };
const good = { clientId: "dex-a1b2c3d4", redirectUri: "http://127.0.0.1:9/cb", challenge: "C" };

describe("redeeming a code", () => {
  it.each([
    ["a fresh code with the right verifier", code, good, NOW, "issue"],
    ["a used code, even with everything else right", { ...code, usedAt: NOW - 1 }, good, NOW, "reused"],
    ["a used code that has also expired", { ...code, usedAt: NOW - 1 }, good, NOW + 120_000, "reused"],
    ["a code at its expiry", code, good, NOW + 60_000, "expired"],
    ["another client's code", code, { ...good, clientId: "dex-other1" }, NOW, "client_mismatch"],
    ["another redirect URI", code, { ...good, redirectUri: "http://127.0.0.1:10/cb" }, NOW, "redirect_mismatch"],
    ["a verifier whose S256 differs", code, { ...good, challenge: "D" }, NOW, "pkce_mismatch"],
  ] as const)("%s", (_name, stored, presented, now, outcome) => {
    expect(redeemCode(stored, presented, now)).toBe(outcome);
  });
});

describe("refresh rotation", () => {
  const live = { expiresAt: NOW + 1000 };
  it.each([
    ["a live token rotates", live, false, NOW, "rotate"],
    ["a repeat right after rotation replays", { ...live, rotatedAt: NOW }, false, NOW, "replay"],
    ["a repeat at the end of the grace replays", { ...live, rotatedAt: NOW - REFRESH_GRACE_MS }, false, NOW, "replay"],
    ["a repeat after the grace is reuse", { ...live, rotatedAt: NOW - REFRESH_GRACE_MS - 1 }, false, NOW, "reuse"],
    ["an expired token", live, false, NOW + 1000, "expired"],
    ["a revoked token", { ...live, revokedAt: NOW - 5 }, false, NOW, "revoked"],
    ["a token of a revoked grant, even inside the grace", { ...live, rotatedAt: NOW }, true, NOW, "revoked"],
  ] as const)("%s", (_name, token, grantRevoked, now, outcome) => {
    expect(refreshOutcome(token, grantRevoked, now)).toBe(outcome);
  });
});

describe("device polling", () => {
  const pending: StoredDevice = { status: "pending", expiresAt: NOW + 600_000, intervalSeconds: 5 };
  it.each([
    ["first poll while pending", pending, NOW, { outcome: "authorization_pending" }],
    ["a poll after the interval", { ...pending, lastPolledAt: NOW - 5000 }, NOW, { outcome: "authorization_pending" }],
    ["a poll inside the interval", { ...pending, lastPolledAt: NOW - 4999 }, NOW, { outcome: "slow_down", intervalSeconds: 10 }],
    ["a poll inside a raised interval", { ...pending, intervalSeconds: 10, lastPolledAt: NOW - 9000 }, NOW, { outcome: "slow_down", intervalSeconds: 15 }],
    ["approved", { ...pending, status: "approved", lastPolledAt: NOW - 1000 }, NOW, { outcome: "issue" }],
    ["denied", { ...pending, status: "denied" }, NOW, { outcome: "access_denied" }],
    ["expired while pending", pending, NOW + 600_000, { outcome: "expired_token" }],
    ["approved but expired", { ...pending, status: "approved" }, NOW + 600_000, { outcome: "expired_token" }],
    ["already exchanged", { ...pending, status: "consumed" }, NOW, { outcome: "consumed" }],
  ] as const)("%s", (_name, device, now, outcome) => {
    expect(devicePoll(device, now)).toEqual(outcome);
  });
});

describe("access tokens", () => {
  it.each([
    ["unknown", null, false, NOW, "unknown_token"],
    ["a refresh token used as access", { kind: "refresh", expiresAt: NOW + 1 }, false, NOW, "not_access_token"],
    ["revoked", { kind: "access", expiresAt: NOW + 1, revokedAt: NOW }, false, NOW, "revoked"],
    ["grant revoked", { kind: "access", expiresAt: NOW + 1 }, true, NOW, "revoked"],
    ["expired", { kind: "access", expiresAt: NOW }, false, NOW, "expired"],
    ["live", { kind: "access", expiresAt: NOW + 1 }, false, NOW, null],
  ] as const)("%s", (_name, token, grantRevoked, now, refusal) => {
    expect(accessRefusal(token, grantRevoked, now)).toBe(refusal);
  });
});

describe("who may connect", () => {
  it.each([
    ["active", "ready"],
    ["past_due", "ready"],
    ["trial", "needs_plan"],
    ["pending", "needs_plan"],
    ["canceled", "needs_plan"],
    ["suspended", "blocked"],
  ] as const)("%s -> %s", (state, readiness) => expect(connectReadiness(state)).toBe(readiness));
});

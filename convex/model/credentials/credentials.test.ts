import { describe, expect, it } from "vitest";
import {
  credentialRefusal,
  credentialTimes,
  endpointsOf,
  resolveScopes,
  rotationDueAt,
  scopeCovers,
  sessionRefusal,
  startRotation,
  usableUntil,
} from "./lifecycle";
import { describeKeyring, keyringFrom, MasterKeyConfigError, selectKey } from "./masterKeys";
import { expectationsFrom, malformedExpectation, mismatchedExpectation, parseTokenRequest } from "./provisioning";
import { decodeBearerHash, encodeBearerHash, matchesStored, mintToken, parseToken, presentedHash, storedHash } from "./tokens";

const HOUR = 3_600_000;

describe("credential tokens", () => {
  it("mints tokens that parse back to their kind, lookup id and secret", () => {
    for (const kind of ["provider_credential", "session_token"] as const) {
      const m = mintToken(kind);
      expect(m.token.startsWith(kind === "session_token" ? "pdx_st_" : "pdx_pc_")).toBe(true);
      expect(parseToken(m.token)).toEqual({ kind, lookupId: m.lookupId, secret: m.secret });
    }
  });

  it("refuses look-alikes: wrong length, other characters, other prefixes", () => {
    const m = mintToken("session_token");
    expect(parseToken(m.token.slice(0, -1))).toBeNull();
    expect(parseToken(`${m.token}x`)).toBeNull();
    expect(parseToken(m.token.replace(/.$/, "-"))).toBeNull();
    expect(parseToken(m.token.replace("pdx_st_", "pdx_at_"))).toBeNull();
  });

  it("stores a salted keyed hash: the secret verifies, another secret or key does not, salts differ per row", async () => {
    const m = mintToken("provider_credential");
    const presented = await presentedHash(m.secret, "deployment-key");
    const row = { salt: "saltA", tokenHash: await storedHash("saltA", presented) };
    expect(await matchesStored(row, presented)).toBe(true);
    expect(await matchesStored(row, await presentedHash(m.secret, "other-key"))).toBe(false);
    expect(await matchesStored(row, await presentedHash(mintToken("provider_credential").secret, "deployment-key"))).toBe(false);
    expect(await storedHash("saltB", presented)).not.toBe(row.tokenHash);
    expect(row.tokenHash).not.toContain(m.secret);
  });

  it("carries lookup id and presented hash through one string", () => {
    const lookupId = mintToken("session_token").lookupId;
    expect(decodeBearerHash(encodeBearerHash(lookupId, "abc123"))).toEqual({ lookupId, presented: "abc123" });
    expect(decodeBearerHash("nodothere")).toBeNull();
    expect(decodeBearerHash("short.abc")).toBeNull();
  });
});

describe("credential lifetimes", () => {
  it("defaults to 24 h with a 1 h overlap and 15 min sessions; fractions allowed", () => {
    expect(credentialTimes({})).toEqual({ ttlMs: 24 * HOUR, overlapMs: HOUR, sessionTtlMs: 15 * 60_000 });
    expect(credentialTimes({ CREDENTIAL_TTL_HOURS: "0.01", CREDENTIAL_OVERLAP_MINUTES: "0.1", SESSION_TOKEN_TTL_MINUTES: "0.05" }))
      .toEqual({ ttlMs: 36_000, overlapMs: 6_000, sessionTtlMs: 3_000 });
  });

  it.each([
    [{ CREDENTIAL_TTL_HOURS: "abc" }, /CREDENTIAL_TTL_HOURS must be a positive number/],
    [{ CREDENTIAL_OVERLAP_MINUTES: "-1" }, /CREDENTIAL_OVERLAP_MINUTES must be a positive number/],
    [{ CREDENTIAL_TTL_HOURS: "1", CREDENTIAL_OVERLAP_MINUTES: "60" }, /shorter than CREDENTIAL_TTL_HOURS/],
  ])("refuses %o", (env, message) => {
    expect(() => credentialTimes(env)).toThrow(message);
  });

  it("an active credential works until expiry; a rotating one until its overlap ends; a revoked one never", () => {
    const c = { status: "active" as const, expiresAt: 10_000 };
    expect(credentialRefusal(c, 9_999)).toBeNull();
    expect(credentialRefusal(c, 10_000)).toBe("expired");
    const rotating = { ...c, ...startRotation(c, 5_000, { overlapMs: 2_000 }) };
    expect(rotating.overlapEndsAt).toBe(7_000);
    expect(usableUntil(rotating)).toBe(7_000);
    expect(credentialRefusal(rotating, 6_999)).toBeNull();
    expect(credentialRefusal(rotating, 7_000)).toBe("expired");
    // Never past its own expiry, however late the rotation starts.
    expect(startRotation(c, 9_500, { overlapMs: 2_000 }).overlapEndsAt).toBe(10_000);
    expect(credentialRefusal({ ...c, status: "revoked" }, 0)).toBe("revoked");
    expect(credentialRefusal(null, 0)).toBe("unknown");
    expect(rotationDueAt(c, { overlapMs: 2_000 })).toBe(8_000);
  });

  it("session tokens: expired at expiresAt, revoked at once", () => {
    expect(sessionRefusal({ expiresAt: 100 }, 99)).toBeNull();
    expect(sessionRefusal({ expiresAt: 100 }, 100)).toBe("expired");
    expect(sessionRefusal({ expiresAt: 100, revokedAt: 50 }, 60)).toBe("revoked");
  });
});

describe("credential scopes", () => {
  it("are the endpoints the provider serves, by default or as a subset", () => {
    expect(endpointsOf("elevenlabs")).toEqual(["speech"]);
    expect(endpointsOf("openai")).toEqual(expect.arrayContaining(["chat", "embedding"]));
    expect(resolveScopes("openai", undefined)).toEqual({ ok: true, scopes: endpointsOf("openai") });
    expect(resolveScopes("openai", ["chat"])).toEqual({ ok: true, scopes: ["chat"] });
    expect(resolveScopes("elevenlabs", ["chat"])).toEqual({ ok: false, message: "elevenlabs credentials can be scoped to speech; not chat." });
  });

  it("cover only the credential's provider and endpoints", () => {
    const c = { provider: "openai", scopes: ["chat"] };
    expect(scopeCovers(c, { model: "gpt-4o-mini", kind: "chat" })).toBe(true);
    expect(scopeCovers(c, { model: "text-embedding-3-small", kind: "embedding" })).toBe(false);
    expect(scopeCovers(c, { model: "claude-haiku-4-5", kind: "chat" })).toBe(false);
    // Unpriced models are refused later as model_not_found, for every caller alike.
    expect(scopeCovers(c, { model: "no-such-model", kind: "chat" })).toBe(true);
  });
});

describe("master keys", () => {
  it("keeps the single key working as id 'default'", () => {
    const ring = keyringFrom("openai", { OPENAI_API_KEY: "sk-one" });
    expect(ring.keys).toEqual([{ id: "default", value: "sk-one" }]);
    expect(selectKey(ring, null)).toEqual({ id: "default", value: "sk-one" });
  });

  it("reads several keys with ids and the env's active id; the table's choice wins while it exists", () => {
    const ring = keyringFrom("anthropic", { ANTHROPIC_API_KEYS: "k1:sk-a, k2:sk-b", ANTHROPIC_ACTIVE_KEY_ID: "k2" });
    expect(ring.keys.map((k) => k.id)).toEqual(["k1", "k2"]);
    expect(selectKey(ring, null)?.id).toBe("k2");
    expect(selectKey(ring, "k1")?.id).toBe("k1");
    expect(selectKey(ring, "gone")?.id).toBe("k2");
    expect(describeKeyring(ring, "gone")).toEqual({ ids: ["k1", "k2"], envActiveId: "k2", activeId: "k2", chosenIdMissing: true });
    // Without an active id: "default" if there is one, else the first listed.
    expect(keyringFrom("gemini", { GEMINI_API_KEYS: "a:x,b:y" }).envActiveId).toBe("a");
    expect(keyringFrom("gemini", { GEMINI_API_KEYS: "a:x", GEMINI_API_KEY: "z" }).envActiveId).toBe("default");
    expect(keyringFrom("gemini", {}).envActiveId).toBeNull();
  });

  it.each([
    [{ OPENAI_API_KEYS: "nocolon" }, /entry 1 must be id:key/],
    [{ OPENAI_API_KEYS: "a:x,a:y" }, /names the id 'a' twice/],
    [{ OPENAI_API_KEYS: "k1:x", OPENAI_ACTIVE_KEY_ID: "k9" }, /OPENAI_ACTIVE_KEY_ID is 'k9'/],
    [{ OPENAI_API_KEYS: "default:x", OPENAI_API_KEY: "y" }, /differs from OPENAI_API_KEY/],
  ])("refuses %o without echoing a key", (env, message) => {
    try {
      keyringFrom("openai", env);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(MasterKeyConfigError);
      expect((e as Error).message).toMatch(message);
      for (const value of ["x", "y"]) expect((e as Error).message).not.toContain(`:${value}`);
    }
  });
});

describe("provisioning requests", () => {
  it("validates the body with a message naming the field", () => {
    expect(parseTokenRequest({ provider: "openai" })).toEqual({ ok: true, value: { provider: "openai" } });
    expect(parseTokenRequest({ provider: "nope" })).toMatchObject({ ok: false, message: expect.stringContaining("provider must be one of openai") });
    expect(parseTokenRequest({ provider: "openai", extra: 1 })).toMatchObject({ ok: false });
    expect(parseTokenRequest({ provider: "openai", scopes: "chat" })).toMatchObject({ ok: false, message: expect.stringContaining("'scopes'") });
  });

  it("account headers: malformed is 400, another account or plan state is 409", () => {
    const e = expectationsFrom(new Headers({ "x-plan-tier": "gold" }));
    expect(malformedExpectation(e)).toMatchObject({ status: 400, code: "invalid_plan_tier" });
    expect(malformedExpectation(expectationsFrom(new Headers({ "x-plan-status": "happy" })))).toMatchObject({ status: 400 });
    const account = { id: "u1", plan: "basic" as const, state: "active" as const };
    expect(mismatchedExpectation({ accountId: "u2" }, account)).toMatchObject({ status: 409, code: "account_mismatch" });
    expect(mismatchedExpectation({ planTier: "pro" }, account)).toMatchObject({ status: 409, code: "plan_tier_mismatch" });
    expect(mismatchedExpectation({ planStatus: "trial" }, account)).toMatchObject({ status: 409, code: "plan_status_mismatch" });
    expect(mismatchedExpectation({ accountId: "u1", planTier: "basic", planStatus: "active" }, account)).toBeNull();
  });
});

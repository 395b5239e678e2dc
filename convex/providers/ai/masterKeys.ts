// Each provider's master keys on this deployment (model/credentials/masterKeys.ts parses them
// from env). The adapters send the key the request was given at its start (`masterKey` on the
// UpstreamRequest: chosen once by proxy/upstream.ts, held for every retry), or the env's active
// one when none was given. A malformed setting makes the provider unavailable with a message
// naming the variable, never the value.
import { env } from "../../_generated/server";
import { ENV_PREFIX, keyringFrom, type Keyring, type MasterKey, MasterKeyConfigError, selectKey } from "../../model/credentials/masterKeys";
import type { ProviderId } from "../../model/pricing";
import { UpstreamUnavailableError } from "./types";

export type { MasterKey };

type KeyringResult = { ok: true; ring: Keyring } | { ok: false; message: string };

/**
 * Parsed keyrings by the settings they were parsed from: a proxied request asks for its
 * provider's keyring several times (availability, the key to hold, the adapter), and the
 * settings rarely change. A changed setting (a key added or switched) is a new entry at once.
 */
const parsed = new Map<ProviderId, { keys: string | undefined; key: string | undefined; active: string | undefined; result: KeyringResult }>();
const SETTING_NAMES = Object.fromEntries(
  (Object.keys(ENV_PREFIX) as ProviderId[]).map((p) => [p, [`${ENV_PREFIX[p]}_API_KEYS`, `${ENV_PREFIX[p]}_API_KEY`, `${ENV_PREFIX[p]}_ACTIVE_KEY_ID`]]),
) as Record<ProviderId, [string, string, string]>;

/** The provider's keyring from env, or the configuration error that keeps it unusable. */
export function keyringOf(provider: ProviderId): KeyringResult {
  const [keysName, keyName, activeName] = SETTING_NAMES[provider];
  const keys = env[keysName];
  const key = env[keyName];
  const active = env[activeName];
  const cached = parsed.get(provider);
  if (cached !== undefined && cached.keys === keys && cached.key === key && cached.active === active) return cached.result;
  let result: KeyringResult;
  try {
    const ring = keyringFrom(provider, env);
    // Shared by every caller from here on: nobody may change it.
    for (const key of ring.keys) Object.freeze(key);
    Object.freeze(ring.keys);
    result = { ok: true, ring: Object.freeze(ring) };
  } catch (e) {
    if (!(e instanceof MasterKeyConfigError)) throw e;
    result = { ok: false, message: e.message };
  }
  parsed.set(provider, { keys, key, active, result });
  return result;
}

/** True when the provider has at least one usable master key. */
export function hasMasterKey(provider: ProviderId): boolean {
  const r = keyringOf(provider);
  return r.ok && r.ring.keys.length > 0;
}

/** True when switching keys can matter: more than one key configured. */
export function hasSeveralKeys(provider: ProviderId): boolean {
  const r = keyringOf(provider);
  return r.ok && r.ring.keys.length > 1;
}

/** The key to send: the one chosen at the request's start, else the env's active key. */
export function keyFor(provider: ProviderId, chosen: MasterKey | undefined, envName: string): string {
  if (chosen) return chosen.value;
  const r = keyringOf(provider);
  if (!r.ok) throw new UpstreamUnavailableError(`${r.message} Fix it on this deployment.`);
  const key = selectKey(r.ring, null);
  if (!key) throw new UpstreamUnavailableError(`${envName} is not set on this deployment.`);
  return key.value;
}

// Master provider keys with ids: the deployment's own keys for each AI provider, several at
// once so one can be swapped for another without downtime. From env, per provider P:
//
//   P_API_KEYS="k1:sk-...,k2:sk-..."   any number of id:key pairs
//   P_API_KEY="sk-..."                   the single-key setting, id "default"
//   P_ACTIVE_KEY_ID="k2"                 which one new requests use (else: "default", else the first)
//
// A table setting (credentials/masterKeys.ts) may name another active id; it wins while it
// names a configured key. The id is chosen once at a request's start and held for all its
// attempts, so switching drains in-flight requests on the key they started with. Key values
// never leave this module's callers except as the upstream's Authorization header. Pure.
import type { ProviderId } from "../pricing";

export const ENV_PREFIX: Record<ProviderId, string> = {
  openai: "OPENAI",
  anthropic: "ANTHROPIC",
  gemini: "GEMINI",
  elevenlabs: "ELEVENLABS",
};

export const DEFAULT_KEY_ID = "default";
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

export class MasterKeyConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MasterKeyConfigError";
  }
}

export interface MasterKey {
  id: string;
  /** The secret sent upstream. Never logged, stored or returned by a function. */
  value: string;
}

export interface Keyring {
  provider: ProviderId;
  keys: MasterKey[];
  /** The env's active id (P_ACTIVE_KEY_ID, else "default", else the first key), or null with no keys. */
  envActiveId: string | null;
}

/** The provider's keys from env; a malformed setting is a MasterKeyConfigError naming the variable, never the value. */
export function keyringFrom(provider: ProviderId, env: Record<string, string | undefined>): Keyring {
  const prefix = ENV_PREFIX[provider];
  const keys: MasterKey[] = [];
  const list = env[`${prefix}_API_KEYS`]?.trim();
  if (list) {
    for (const [i, entry] of list.split(",").entries()) {
      const pair = entry.trim();
      if (pair === "") continue;
      const colon = pair.indexOf(":");
      const id = colon < 0 ? "" : pair.slice(0, colon).trim();
      const value = colon < 0 ? "" : pair.slice(colon + 1).trim();
      if (!KEY_ID.test(id) || value === "") {
        throw new MasterKeyConfigError(`${prefix}_API_KEYS entry ${i + 1} must be id:key with an id of letters, digits, - or _ (at most 32).`);
      }
      if (keys.some((k) => k.id === id)) throw new MasterKeyConfigError(`${prefix}_API_KEYS names the id '${id}' twice.`);
      keys.push({ id, value });
    }
  }
  const single = env[`${prefix}_API_KEY`]?.trim();
  if (single) {
    const listed = keys.find((k) => k.id === DEFAULT_KEY_ID);
    if (listed && listed.value !== single) {
      throw new MasterKeyConfigError(`${prefix}_API_KEYS has an id 'default' that differs from ${prefix}_API_KEY; rename one.`);
    }
    if (!listed) keys.unshift({ id: DEFAULT_KEY_ID, value: single });
  }
  const wanted = env[`${prefix}_ACTIVE_KEY_ID`]?.trim();
  if (wanted && !keys.some((k) => k.id === wanted)) {
    throw new MasterKeyConfigError(`${prefix}_ACTIVE_KEY_ID is '${wanted}', which is not an id in ${prefix}_API_KEYS or ${prefix}_API_KEY.`);
  }
  const envActiveId = wanted || (keys.some((k) => k.id === DEFAULT_KEY_ID) ? DEFAULT_KEY_ID : keys[0]?.id ?? null);
  return { provider, keys, envActiveId };
}

/**
 * The key a new request uses: the table's choice while it names a configured key, else the
 * env's. Null when the provider has no key at all.
 */
export function selectKey(ring: Keyring, chosenId: string | null | undefined): MasterKey | null {
  const byId = (id: string | null | undefined) => (id ? ring.keys.find((k) => k.id === id) ?? null : null);
  return byId(chosenId) ?? byId(ring.envActiveId);
}

/** What may be shown about a keyring: ids and which is active, never a value. */
export function describeKeyring(ring: Keyring, chosenId: string | null | undefined): { ids: string[]; envActiveId: string | null; activeId: string | null; chosenIdMissing: boolean } {
  const active = selectKey(ring, chosenId);
  return {
    ids: ring.keys.map((k) => k.id),
    envActiveId: ring.envActiveId,
    activeId: active?.id ?? null,
    chosenIdMissing: Boolean(chosenId) && !ring.keys.some((k) => k.id === chosenId),
  };
}

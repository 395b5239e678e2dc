// The functions' `crypto`: Node's Web Crypto (what EdgeVM installs), except that
// `crypto.subtle.digest` with SHA-1/256/384/512 over bytes is computed at once with
// `node:crypto`'s createHash. Node's `subtle.digest` queues every hash on the libuv thread pool
// and resolves on a later turn of the event loop: for the short inputs functions hash (an API
// key on every proxied request) that hop costs ~50 us of CPU against ~3 us for the hash, plus a
// thread wake-up, which on a busy machine is more. The result is the same: a promise of a fresh
// ArrayBuffer holding the digest. `getRandomValues` takes its bytes from a pool (below). Anything
// else (other algorithms, inputs that are not bytes, every other method) goes to Node's
// implementation unchanged, errors included.
import { createHash, randomFillSync, webcrypto } from "node:crypto";
import { types } from "node:util";

/**
 * `getRandomValues` from a pool: Node's fills each call's array through a native crypto job
 * (an async resource, so every enabled async hook runs for it), which measured ~50 us per call
 * inside the runtime for the 48 bytes a request id takes. The pool is filled from the same CSPRNG
 * (randomFillSync) 4 KiB at a time, and every byte is handed out once.
 */
const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let poolOffset = 0;

function randomBytesFromPool(n: number): Buffer {
  if (poolOffset + n > pool.length) {
    pool = randomFillSync(Buffer.allocUnsafe(POOL_BYTES));
    poolOffset = 0;
  }
  const out = pool.subarray(poolOffset, poolOffset + n);
  poolOffset += n;
  return out;
}

/** What Web Crypto fills: integer typed arrays (any realm); anything else goes to Node's, which throws. */
function isIntegerTypedArray(data: unknown): data is ArrayBufferView {
  return types.isTypedArray(data) && !types.isFloat32Array(data) && !types.isFloat64Array(data);
}

const HASHES: Record<string, string> = { "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512" };

function nodeHashName(algorithm: unknown): string | undefined {
  const name =
    typeof algorithm === "string"
      ? algorithm
      : typeof algorithm === "object" && algorithm !== null
        ? (algorithm as { name?: unknown }).name
        : undefined;
  // Web Crypto matches algorithm names case-insensitively.
  return typeof name === "string" ? HASHES[name.toUpperCase()] : undefined;
}

/** The bytes of a BufferSource from any realm (the functions' ArrayBuffers are not the host's). */
function bytesOf(data: unknown): Uint8Array | undefined {
  if (types.isArrayBufferView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (types.isArrayBuffer(data)) return new Uint8Array(data);
  return undefined;
}

/** A `crypto` object for the functions' realm (see the top of this file). */
export function functionsCrypto(): Crypto {
  const real = webcrypto as unknown as Crypto;
  const realSubtle = real.subtle as unknown as Record<string, (...args: unknown[]) => unknown>;
  // Node's methods check that `this` is its own singleton, so each is bound to it.
  const subtle = Object.create(Object.getPrototypeOf(realSubtle) as object) as Record<string, unknown>;
  for (const name of Object.getOwnPropertyNames(Object.getPrototypeOf(realSubtle))) {
    const method = realSubtle[name];
    if (name === "constructor" || typeof method !== "function") continue;
    Object.defineProperty(subtle, name, { value: method.bind(realSubtle), writable: true, configurable: true });
  }
  const digest = realSubtle.digest.bind(realSubtle);
  Object.defineProperty(subtle, "digest", {
    value: function digestNow(algorithm: unknown, data: unknown): Promise<ArrayBuffer> {
      const hash = nodeHashName(algorithm);
      const bytes = hash === undefined ? undefined : bytesOf(data);
      if (hash === undefined || bytes === undefined) return digest(algorithm, data) as Promise<ArrayBuffer>;
      const out = createHash(hash).update(bytes).digest();
      const result = new ArrayBuffer(out.length);
      new Uint8Array(result).set(out);
      return Promise.resolve(result);
    },
    writable: true,
    configurable: true,
  });
  const realGetRandomValues = real.getRandomValues.bind(real);
  function getRandomValues<T extends ArrayBufferView | null>(data: T): T {
    if (isIntegerTypedArray(data) && data.byteLength <= POOL_BYTES) {
      new Uint8Array(data.buffer, data.byteOffset, data.byteLength).set(randomBytesFromPool(data.byteLength));
      return data;
    }
    // Larger arrays (Node's own limit and error at 65,536 bytes), floats, DataViews, non-arrays.
    return realGetRandomValues(data as never) as T;
  }
  const crypto = Object.create(Object.getPrototypeOf(real) as object) as Crypto;
  Object.defineProperties(crypto, {
    subtle: { value: subtle, enumerable: true },
    getRandomValues: { value: getRandomValues, writable: true, configurable: true },
    randomUUID: { value: real.randomUUID.bind(real), writable: true, configurable: true },
  });
  return crypto;
}

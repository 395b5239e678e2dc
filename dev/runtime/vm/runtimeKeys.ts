// The Symbol.for keys the runtime's host side (primitives.ts, hostFetch.ts, bundle.ts's patches)
// and its engine inside the VM meet at: one spelling each, so the two sides cannot drift apart.
// The global symbol registry is shared by every realm of the process. Functions never ask for
// these; no module here imports anything, so the VM bundle can import it too.
export const RUNTIME_KEYS = {
  /** A lazy string/bytes body's bytes, taken without a stream (primitives.ts, vm/engine.ts). */
  takeWholeBody: "offline-runtime.takeWholeBody",
  /** Request factory for an httpAction's request with parsed headers (primitives.ts). */
  trustedRequest: "offline-runtime.trustedRequest",
  /** Response factory for a provider reply with parsed headers (primitives.ts, hostFetch.ts). */
  trustedResponse: "offline-runtime.trustedResponse",
  /** A Headers object's pairs as forEach gives them (primitives.ts, vm/engine.ts). */
  headerPairs: "offline-runtime.headerPairs",
  /** The engine's init for convex-test's t.fetch: parsed headers and the abort hand-over (bundle.ts). */
  trustedInit: "offline-runtime.trustedInit",
  /** JSON forms of stored documents a reader may take as they are (bundle.ts). */
  freshJson: "offline-runtime.freshJson",
} as const;

/** `Symbol.for(key)` as source text, for the code the runtime patches into packages. */
export function symbolSource(key: string): string {
  return `Symbol.for(${JSON.stringify(key)})`;
}

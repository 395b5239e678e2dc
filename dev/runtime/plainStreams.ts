// Web streams as plain objects: on Node 20, every `new ReadableStream()`, `WritableStream` and
// `TransformStream` (the functions' own, undici's, the runtime's) ends its constructor with
// `makeTransferable(this)`, which copies the new stream onto a C++-backed object (so a stream can
// be posted to a worker) held by a weak handle. V8's young-generation collector treats the weak
// handle of such a modified object as a root: a stream, and everything it references (a reply
// stream's source holds the request's whole action context), survives every scavenge, is
// promoted, and waits for a full mark-compact to die. 200,000 short-lived streams in a loop: 8
// mark-compacts and 32 MB of heap before, 1 and 6 MB after; in the proxy benchmark the gain is
// inside its noise (README).
//
// makeTransferable returns its argument unchanged when it is already `instanceof JSTransferable`.
// This module answers yes for web streams (by their ordinary prototype chain), so a stream stays
// the plain object its constructor built. Nothing else changes for the functions: Convex's own
// runtime has no workers to transfer a stream to, and the runtime never posts one. Node 22 and
// later mark streams transferable lazily, without the C++ object; there, and wherever the class
// is not where Node 20 keeps it, this does nothing. See README, "Performance: function calls".
import { SocketAddress } from "node:net";

type Ctor = abstract new (...args: never[]) => unknown;

const ordinaryHasInstance = Function.prototype[Symbol.hasInstance] as (this: Ctor, value: unknown) => boolean;

/** Node 20's JSTransferable: the class net.SocketAddress extends (undefined elsewhere). */
function jsTransferable(): Ctor | undefined {
  const parent = Object.getPrototypeOf(SocketAddress) as Ctor | null;
  return parent !== null && parent.name === "JSTransferable" ? parent : undefined;
}

/** Whether streams are built as plain objects in this process (see above). Idempotent. */
export function installPlainStreams(): boolean {
  const JSTransferable = jsTransferable();
  if (JSTransferable === undefined) return false;
  if (Object.prototype.hasOwnProperty.call(JSTransferable, Symbol.hasInstance)) return true;
  const streams: Ctor[] = [ReadableStream, WritableStream, TransformStream];
  Object.defineProperty(JSTransferable, Symbol.hasInstance, {
    value(this: Ctor, value: unknown): boolean {
      if (ordinaryHasInstance.call(this, value)) return true;
      // Only JSTransferable's own check (a subclass keeps the ordinary answer).
      if (this !== JSTransferable || typeof value !== "object" || value === null) return false;
      for (const stream of streams) if (ordinaryHasInstance.call(stream, value)) return true;
      return false;
    },
  });
  return true;
}

export const plainStreams: boolean = installPlainStreams();

// `node:async_hooks` as the bundle sees it (bundle.ts resolves every import of it here).
//
// On Node 20 each enabled AsyncLocalStorage costs work on EVERY promise the process creates:
// the promise-init hook copies each storage's current value onto the new promise. convex-test
// keeps six storages and the engine three, so a function call that makes a few hundred
// promises paid for nine copies each. Here every AsyncLocalStorage of the bundle is a slot in
// one frame kept by a single host AsyncLocalStorage: a promise costs one copy, whatever the
// number of storages, and `run` costs one small array copy. Semantics are Node's: a store
// is visible to everything that runs (synchronously or asynchronously) inside `run`,
// `exit` hides it, and nesting restores the outer value afterwards.
declare const __hostRequire: (id: string) => typeof import("node:async_hooks");

const host = __hostRequire("node:async_hooks");

/** The current frame: slot i holds the store of the i-th AsyncLocalStorage. */
const frames = new host.AsyncLocalStorage<unknown[]>();
let slots = 0;

function withSlot(slot: number, store: unknown): unknown[] {
  const parent = frames.getStore();
  const frame = parent === undefined ? [] : parent.slice();
  frame[slot] = store;
  return frame;
}

export class AsyncLocalStorage<T> {
  readonly #slot = slots++;

  getStore(): T | undefined {
    const frame = frames.getStore();
    return frame === undefined ? undefined : (frame[this.#slot] as T | undefined);
  }

  run<R, A extends unknown[]>(store: T, callback: (...args: A) => R, ...args: A): R {
    return frames.run(withSlot(this.#slot, store), callback, ...args);
  }

  exit<R, A extends unknown[]>(callback: (...args: A) => R, ...args: A): R {
    if (this.getStore() === undefined) return callback(...args);
    return frames.run(withSlot(this.#slot, undefined), callback, ...args);
  }

  enterWith(store: T): void {
    frames.enterWith(withSlot(this.#slot, store));
  }

  disable(): void {
    if (this.getStore() !== undefined) frames.enterWith(withSlot(this.#slot, undefined));
  }

  static bind<F extends (...args: unknown[]) => unknown>(fn: F): F {
    return host.AsyncLocalStorage.bind(fn);
  }

  static snapshot(): <R, A extends unknown[]>(fn: (...args: A) => R, ...args: A) => R {
    return host.AsyncLocalStorage.snapshot();
  }
}

export const { AsyncResource, createHook, executionAsyncId, executionAsyncResource, triggerAsyncId } = host;
export default { AsyncLocalStorage, AsyncResource, createHook, executionAsyncId, executionAsyncResource, triggerAsyncId };

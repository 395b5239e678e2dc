// The bundle's AsyncLocalStorage (one host storage for all of them) behaves like Node's.
import { AsyncLocalStorage as NodeAsyncLocalStorage } from "node:async_hooks";
import { createRequire } from "node:module";
import { beforeAll, describe, expect, it } from "vitest";

type Storage<T> = NodeAsyncLocalStorage<T>;
let AsyncLocalStorage: new <T>() => Storage<T>;

beforeAll(async () => {
  // In the bundle, __hostRequire is the host's require (bundle.ts).
  (globalThis as { __hostRequire?: NodeRequire }).__hostRequire = createRequire(import.meta.url);
  ({ AsyncLocalStorage } = (await import("./asyncContext.ts")) as unknown as { AsyncLocalStorage: new <T>() => Storage<T> });
});

const tick = () => new Promise((r) => setTimeout(r, 1));

describe("AsyncLocalStorage over one host storage", () => {
  it("keeps each storage's value apart, through awaits and timers", async () => {
    const a = new AsyncLocalStorage<string>();
    const b = new AsyncLocalStorage<number>();
    expect(a.getStore()).toBeUndefined();
    const seen = await a.run("outer", async () => {
      await tick();
      return await b.run(1, async () => {
        await tick();
        const inTimer = await new Promise<[string | undefined, number | undefined]>((resolve) =>
          setTimeout(() => resolve([a.getStore(), b.getStore()]), 1),
        );
        return { a: a.getStore(), b: b.getStore(), inTimer };
      });
    });
    expect(seen).toEqual({ a: "outer", b: 1, inTimer: ["outer", 1] });
    expect(a.getStore()).toBeUndefined();
    expect(b.getStore()).toBeUndefined();
  });

  it("restores the outer value after a nested run, and concurrent runs do not see each other", async () => {
    const s = new AsyncLocalStorage<string>();
    const results = await Promise.all(
      ["x", "y", "z"].map((v) =>
        s.run(v, async () => {
          await tick();
          const inner = await s.run(`${v}-inner`, async () => {
            await tick();
            return s.getStore();
          });
          await tick();
          return [inner, s.getStore()];
        }),
      ),
    );
    expect(results).toEqual([
      ["x-inner", "x"],
      ["y-inner", "y"],
      ["z-inner", "z"],
    ]);
  });

  it("hides one storage in exit() and leaves the others", () => {
    const a = new AsyncLocalStorage<string>();
    const b = new AsyncLocalStorage<string>();
    a.run("a", () =>
      b.run("b", () => {
        expect(a.exit(() => [a.getStore(), b.getStore()])).toEqual([undefined, "b"]);
        expect(a.getStore()).toBe("a");
      }),
    );
  });

  it("passes run's extra arguments and returns the callback's value", () => {
    const s = new AsyncLocalStorage<number>();
    expect(s.run(2, (x: number, y: number) => x * y * (s.getStore() ?? 0), 3, 4)).toBe(24);
  });

  it("enterWith sets the value for the rest of the current async context", async () => {
    const s = new AsyncLocalStorage<string>();
    await (async () => {
      await tick();
      s.enterWith("entered");
      await tick();
      expect(s.getStore()).toBe("entered");
    })();
  });
});

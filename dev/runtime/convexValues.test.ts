// patchConvexValues and patchConvexSize: the lean copies and the size walk give exactly what
// convex/values gives, results and errors.
import { build } from "esbuild";
import { readFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { patchConvexSize, patchConvexValues } from "./bundle.ts";

type Values = {
  convexToJson(v: unknown): unknown;
  jsonToConvex(v: unknown): unknown;
  patchValueToJson(v: unknown): unknown;
};
let patched: Values;
let original: Values;

/**
 * One of convex/values' files bundled alone, re-exporting `names`, with `patch` applied to its
 * source when given (as dev/runtime/bundle.ts does); the module and its code.
 */
async function valuesFile<T>(file: "value.js" | "size.js", names: string[], patch: ((source: string) => string) | null): Promise<{ module: T; code: string }> {
  const out = await build({
    stdin: {
      contents: `export { ${names.join(", ")} } from "./node_modules/convex/dist/esm/values/${file}";`,
      resolveDir: path.resolve(import.meta.dirname, "../.."),
      loader: "js",
    },
    bundle: true,
    write: false,
    format: "esm",
    platform: "neutral",
    plugins: patch
      ? [
          {
            name: "patch",
            setup(b) {
              b.onLoad({ filter: new RegExp(`[\\\\/]convex[\\\\/]dist[\\\\/]esm[\\\\/]values[\\\\/]${file.replace(".", "\\.")}$`) }, (args) => ({
                contents: patch(readFileSync(args.path, "utf8")),
                loader: "js",
              }));
            },
          },
        ]
      : [],
  });
  const code = out.outputFiles[0].text;
  return { module: (await import(`data:text/javascript;base64,${Buffer.from(code).toString("base64")}`)) as T, code };
}

/** value.js (which also has patchValueToJson, not re-exported), patched or not. */
async function valuesModule(patch: boolean): Promise<Values> {
  const { module, code } = await valuesFile<Values>("value.js", ["convexToJson", "jsonToConvex", "patchValueToJson"], patch ? patchConvexValues : null);
  expect(code.includes("__leanToJson")).toBe(patch);
  return module;
}

beforeAll(async () => {
  patched = await valuesModule(true);
  original = await valuesModule(false);
});

function outcome(fn: () => unknown): { value?: string; error?: string } {
  try {
    // JSON text: key order counts too.
    return { value: JSON.stringify(fn()) };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

const bytes = new Uint8Array([1, 2, 3]).buffer;
class Point {
  x = 1;
}
const sparse: unknown[] = [1];
sparse[2] = 3;

const values: unknown[] = [
  null, true, false, 0, 1.5, -7, "", "text", "é€",
  [], [1, "a", null, [true]], { b: 1, a: 2, c: { z: [1, { y: 2, x: 1 }] } },
  { kept: 1, dropped: undefined }, Object.create(null),
  -0, NaN, Infinity, -Infinity, 10n, bytes, { n: 10n, f: NaN, b: bytes },
  { $bad: 1 }, { "ünicode": 1 }, { "tab\t": 1 }, { ["x".repeat(1025)]: 1 },
  undefined, [undefined], sparse, new Point(), new Map([[1, 2]]), new Set([1]), () => 1, Symbol("s"),
  { nested: { deeper: [new Date(0)] } },
  // Key order: system fields appended last, integer-like keys (which Object.keys lists first),
  // case and non-ASCII; and more keys than the in-place sort takes (reversed).
  { z: 1, a: 0, B: 2, _id: "1;users", _creationTime: 2, "10": 1, "2": 2, "é": 3, a_b: [{ y: 1, x: 2 }] },
  Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${String(99 - i).padStart(2, "0")}`, i])),
];

describe("convexToJson / jsonToConvex with lean copies", () => {
  it("convert every value (and refuse every non-value) exactly as convex/values does", () => {
    for (const [i, v] of values.entries()) {
      expect(outcome(() => patched.convexToJson(v)), `value ${i}`).toEqual(outcome(() => original.convexToJson(v)));
    }
  });

  it("convert patches (undefined fields remove them) exactly as convex/values does", () => {
    const patches: unknown[] = [...values, { a: undefined, b: 1 }, { z: undefined, y: { x: undefined } }, { $bad: undefined }, { ok: 1, bad: 10n }];
    for (const [i, v] of patches.entries()) {
      expect(outcome(() => patched.patchValueToJson(v)), `patch ${i}`).toEqual(outcome(() => original.patchValueToJson(v)));
    }
  });

  it("read every JSON form back exactly as convex/values does", () => {
    const forms: unknown[] = [
      ...values.map((v) => outcome(() => original.convexToJson(v)).value).filter((t) => t !== undefined).map((t) => JSON.parse(t!)),
      { $integer: "AQAAAAAAAAA=" }, { $bytes: "AQID" }, { $float: "AAAAAAAA+H8=" }, { $set: [] }, { $map: [] }, { $unknown: 1 },
      { $integer: 5 }, { a: { $bytes: "AQID" } }, { $a: 1, b: 2 }, { "bad\u0001": 1 },
    ];
    for (const f of forms) {
      const mine = (() => { try { return { value: patched.jsonToConvex(f) }; } catch (e) { return { error: (e as Error).message }; } })();
      const theirs = (() => { try { return { value: original.jsonToConvex(f) }; } catch (e) { return { error: (e as Error).message }; } })();
      expect(mine, JSON.stringify(f)).toEqual(theirs);
    }
  });

  it("copies: the result shares no object with its input", () => {
    const input = { a: { b: [1, 2] } };
    const out = patched.convexToJson(input) as { a: { b: number[] } };
    expect(out).toEqual(input);
    expect(out.a).not.toBe(input.a);
    expect(out.a.b).not.toBe(input.a.b);
    const back = patched.jsonToConvex(out) as { a: { b: number[] } };
    expect(back.a.b).not.toBe(out.a.b);
  });

  it("takes a form marked fresh (a stored document's, nothing else holds it) as it is, once", () => {
    const fresh = (globalThis as Record<symbol, WeakSet<object> | undefined>)[Symbol.for("offline-runtime.freshJson")]!;
    expect(fresh).toBeInstanceOf(WeakSet);
    const form = { _id: "1;users", n: 1, tags: ["a"] };
    fresh.add(form);
    expect(patched.jsonToConvex(form)).toBe(form);
    // The mark is used up: the same form again is copied.
    const again = patched.jsonToConvex(form);
    expect(again).toEqual(form);
    expect(again).not.toBe(form);
  });
});

type Sizes = { getConvexSize(v: unknown): number; getDocumentSize(v: unknown): number };

/** size.js, patched or not. */
async function sizeModule(patch: boolean): Promise<Sizes> {
  const { module, code } = await valuesFile<Sizes>("size.js", ["getConvexSize", "getDocumentSize"], patch ? patchConvexSize : null);
  expect(code.includes("Object.entries(value)")).toBe(!patch);
  return module;
}

describe("getConvexSize without Object.entries", () => {
  it("sizes every value (and refuses every non-value) exactly as convex/values does", async () => {
    const [mine, theirs] = await Promise.all([sizeModule(true), sizeModule(false)]);
    const inherited = Object.create({ inherited: "not counted" }) as Record<string, unknown>;
    inherited.own = "counted";
    const sized: unknown[] = [...values, inherited, { withUndefined: undefined, kept: "x" }];
    for (const [i, v] of sized.entries()) {
      expect(outcome(() => mine.getConvexSize(v)), `value ${i}`).toEqual(outcome(() => theirs.getConvexSize(v)));
    }
    const doc = { _id: "1;usageEvents", _creationTime: 1, tokensIn: 20, model: "gpt-4o-mini", tags: ["a", "é"] };
    expect(mine.getDocumentSize(doc)).toBe(theirs.getDocumentSize(doc));
    expect(mine.getDocumentSize({ model: "no system fields yet" })).toBe(theirs.getDocumentSize({ model: "no system fields yet" }));
  });
});

// patchConvexTest's validator check: convex-test's validateValidator with a yes/no check first
// accepts and rejects exactly what the original does, with the original's errors.
import { build } from "esbuild";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { beforeAll, describe, expect, it } from "vitest";
import { v } from "convex/values";
import { patchConvexTest } from "./bundle.ts";

type Internals = {
  validateValidator(validator: unknown, value: unknown): void;
  hasPendingValues(value: unknown): boolean;
  tableNameFromId(id: string): string | null;
  CommitTsPlaceholder: new (...args: unknown[]) => object;
};

const require = createRequire(import.meta.url);
const entry = require.resolve("convex-test");

async function load(patch: boolean): Promise<Internals> {
  const source = readFileSync(entry, "utf8");
  const contents = patch
    ? patchConvexTest(source)
    : `${source}\nexport { validateValidator as __validateValidator, hasPendingValues as __hasPendingValues, tableNameFromId as __tableNameFromId };\n`;
  const out = await build({
    stdin: { contents: `${contents}\nexport { CommitTsPlaceholder as __CommitTsPlaceholder } from "convex/values";\n`, resolveDir: require("node:path").dirname(entry), loader: "js" },
    bundle: true,
    write: false,
    format: "esm",
    platform: "node",
    logLevel: "silent",
  });
  const url = `data:text/javascript;base64,${Buffer.from(out.outputFiles[0].text).toString("base64")}`;
  const mod = await import(url);
  return {
    validateValidator: mod.__validateValidator,
    hasPendingValues: mod.__hasPendingValues,
    tableNameFromId: mod.__tableNameFromId,
    CommitTsPlaceholder: mod.__CommitTsPlaceholder,
  };
}

let patched: Internals;
let original: Internals;
beforeAll(async () => {
  [patched, original] = await Promise.all([load(true), load(false)]);
}, 60_000);

function outcome(f: () => void): string {
  try {
    f();
    return "ok";
  } catch (e) {
    return `${(e as Error).constructor.name}: ${(e as Error).message}`;
  }
}

const exported = (validator: unknown) => JSON.parse(JSON.stringify((validator as { json: unknown }).json));

describe("validateValidator with the yes/no check first", () => {
  const validators = [
    v.null(), v.number(), v.int64(), v.boolean(), v.string(), v.bytes(), v.any(), v.literal("a"), v.literal(3),
    v.id("users"), v.array(v.number()), v.array(v.union(v.string(), v.null())),
    v.union(v.literal("chat"), v.literal("completion"), v.literal("speech")),
    v.union(v.number(), v.null()),
    v.object({ a: v.number(), b: v.optional(v.string()), c: v.union(v.object({ ok: v.literal(true), n: v.number() }), v.object({ ok: v.literal(false) })) }),
    v.object({}),
    v.record(v.string(), v.number()),
  ].map(exported);
  const bytes = new ArrayBuffer(2);
  const values: unknown[] = [
    null, undefined, 0, -0, 1.5, Number.NaN, 3, 5n, true, "a", "chat", "speech", "other", "10000;users", "10000;apiKeys", bytes,
    [], [1, 2], [1, "x"], ["s", null], [null, 3],
    {}, { a: 1 }, { a: 1, c: { ok: true, n: 2 } }, { a: 1, b: "x", c: { ok: false } }, { a: 1, c: { ok: false, n: 1 } },
    { a: 1, c: { ok: true } }, { a: "1", c: { ok: false } }, { a: 1, c: { ok: false }, extra: 1 }, { a: 1, b: undefined, c: { ok: false } },
    Object.create(null), new Date(0), () => 1,
  ];

  it("accepts and rejects every value as the original, with the same error", () => {
    let checked = 0;
    for (const validator of validators) {
      for (const value of values) {
        expect(outcome(() => patched.validateValidator(validator, value)), JSON.stringify(validator)).toBe(
          outcome(() => original.validateValidator(validator, value)),
        );
        checked++;
      }
    }
    expect(checked).toBe(validators.length * values.length);
  });

  it("finds pending commit timestamps where the original does", () => {
    // Each build has its own convex/values, so each is given its own placeholder.
    const samples = (m: Internals): unknown[] => {
      const p = new m.CommitTsPlaceholder();
      return [null, undefined, 1, "s", [1, [2]], { a: { b: [1] } }, p, [1, p], { a: { b: [p] } }, () => 1, Object.create(null)];
    };
    const a = samples(patched).map((x) => patched.hasPendingValues(x));
    expect(a).toEqual(samples(original).map((x) => original.hasPendingValues(x)));
    expect(a.filter(Boolean)).toHaveLength(3);
  });

  it("reads a document id's table where the original does", () => {
    const ids = ["", "123", "123users", "1users", "users", "12ab34", "0_table", "99999999999999999999usageEvents", "１２users", "12 users", "-1users"];
    for (const id of ids) expect(patched.tableNameFromId(id), id).toBe(original.tableNameFromId(id));
    expect(patched.tableNameFromId("1000users")).toBe("users");
  });
});

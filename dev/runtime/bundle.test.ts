import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ConvexHttpClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import { convexToJson } from "convex/values";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { buildBundle, listConvexModules, patchConvexQuery, patchConvexRegistration, patchConvexSyscalls, patchConvexTest } from "./bundle.ts";
import { startRuntime } from "./server.ts";

const fixture = path.join(import.meta.dirname, "fixtures/convex");
const dirs: string[] = [];

function copyFixture() {
  const dir = mkdtempSync(path.join(tmpdir(), "runtime-bundle-"));
  dirs.push(dir);
  cpSync(fixture, dir, { recursive: true });
  return dir;
}

afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("bundle", () => {
  it("lists the modules Convex would push: no tests, configs or declarations", () => {
    const dir = copyFixture();
    writeFileSync(path.join(dir, "messages.test.ts"), "");
    writeFileSync(path.join(dir, "types.d.ts"), "");
    const modules = listConvexModules(dir);
    expect(modules).toContain("messages.ts");
    expect(modules).toContain("_generated/server.ts");
    expect(modules).not.toContain("messages.test.ts");
    expect(modules).not.toContain("auth.config.ts");
    expect(modules).not.toContain("types.d.ts");
  });

  it(`refuses a Node built-in in a file without "use node"`, async () => {
    const dir = copyFixture();
    writeFileSync(path.join(dir, "hashing.ts"), `import { createHash } from "node:crypto";\nexport const h = () => createHash("sha256");\n`);
    await expect(buildBundle({ functionsDir: dir })).rejects.toThrow(/hashing\.ts imports "node:crypto".*"use node"/s);
  });

  it(`allows Node built-ins in a "use node" file`, async () => {
    const dir = copyFixture();
    writeFileSync(path.join(dir, "hashing.ts"), `"use node";\nimport { createHash } from "node:crypto";\nexport const h = () => createHash("sha256");\n`);
    const bundle = await buildBundle({ functionsDir: dir });
    expect(bundle.modules).toContain("hashing.ts");
  });
});

describe("a module that throws while loading", () => {
  it("fails only its own functions, with the reason", async () => {
    const dir = copyFixture();
    writeFileSync(
      path.join(dir, "broken.ts"),
      `import { query } from "./_generated/server";\nthrow new Error("broken at import");\nexport const q = query({ args: {}, handler: async () => 1 });\n`,
    );
    const errors: string[] = [];
    const rt = await startRuntime({
      port: 0,
      sitePort: 0,
      dataDir: dir,
      functionsDir: dir,
      persist: false,
      readEnvLocal: false,
      logger: { info: () => {}, error: (m) => errors.push(m) },
    });
    try {
      const h = new ConvexHttpClient(rt.urls.cloud);
      await expect(h.query(makeFunctionReference<"query">("broken:q"), {})).rejects.toThrow(/broken at import/);
      // Again: the module's own error, not "function not found".
      await expect(h.query(makeFunctionReference<"query">("broken:q"), {})).rejects.toThrow(/broken at import/);
      expect(await h.query(makeFunctionReference<"query">("messages:ticks"), {})).toBeTypeOf("number");
      expect(errors.join("\n")).toMatch(/broken\.ts:2/);
    } finally {
      await rt.close();
    }
  }, 30_000);
});

describe("patches of convex-test and convex", () => {
  const require = createRequire(import.meta.url);
  const convexTestSource = readFileSync(require.resolve("convex-test"), "utf8");

  it("apply to the installed versions, with object twins of both syscall implementations", () => {
    const patched = patchConvexTest(convexTestSource);
    expect(patched).toContain("function syscallObjImpl() {");
    expect(patched).toContain("function asyncSyscallObjImpl() {");
    expect(patched).toContain('__exportedValidator(func, "args")');
    const syscalls = patchConvexSyscalls(readFileSync(path.join(path.dirname(require.resolve("convex/package.json")), "dist/esm/server/impl/syscall.js"), "utf8"));
    expect(syscalls).toContain("Convex.asyncSyscallObj(op, arg)");
    const registration = patchConvexRegistration(
      readFileSync(path.join(path.dirname(require.resolve("convex/package.json")), "dist/esm/server/impl/registration_impl.js"), "utf8"),
    );
    expect(registration).toContain('typeof argsStr === "string" ? JSON.stringify(resultJson) : resultJson');
    expect(registration).toContain("const ctx = __httpActionCtx ??= {");
    const query = patchConvexQuery(readFileSync(path.join(path.dirname(require.resolve("convex/package.json")), "dist/esm/server/impl/query_impl.js"), "utf8"));
    expect(query).toContain('performAsyncSyscall("1.0/queryStreamNextAll"');
    expect(patched).toContain('case "1.0/queryStreamNextAll": {');
    expect(patched.match(/case "1\.0\/queryStreamNextAll"/g)).toHaveLength(2);
  });

  it("convert stored documents exactly as convexToJson does", () => {
    const patched = patchConvexTest(convexTestSource);
    const start = patched.indexOf("let __storedPlain = true;");
    const end = patched.indexOf("\n}\n", patched.indexOf("function __storedPage(result) {")) + 2;
    const made = new Function("convexToJson", `${patched.slice(start, end)}; return { __storedToJson, __storedDoc, __storedNext };`)(convexToJson) as {
      __storedToJson(v: unknown): unknown;
      __storedDoc(v: unknown): unknown;
      __storedNext(v: unknown, done: boolean): unknown;
    };
    const storedToJson = made.__storedToJson;
    const bytes = new Uint8Array([1, 2, 255]).buffer;
    const samples: unknown[] = [
      null,
      "text",
      true,
      0,
      -0,
      1.5,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      123n,
      bytes,
      [1, "a", [null, 2n]],
      { z: 1, a: { y: [1, { b: 2, a: 1 }], x: undefined }, "10": "ten", "2": "two", B: bytes, _id: "1000users", _creationTime: 1.25 },
    ];
    for (const value of samples) expect(storedToJson(value)).toEqual(convexToJson(value as never));
    const doc = { b: 1, a: 2, c: { e: 1, d: 2 } };
    expect(Object.keys(storedToJson(doc) as object)).toEqual(Object.keys(convexToJson(doc) as object));
    expect(Object.keys((storedToJson(doc) as { c: object }).c)).toEqual(["d", "e"]);

    // A document whose form is plain data is marked for the reader's jsonToConvex to take as is;
    // one with a bigint, bytes or a special number (a `$` form) is not.
    const fresh = (globalThis as Record<symbol, WeakSet<object>>)[Symbol.for("offline-runtime.freshJson")];
    const plain = made.__storedDoc({ _id: "1;users", n: 1, tags: ["a"], nested: { x: null } }) as object;
    expect(plain).toEqual({ _id: "1;users", n: 1, tags: ["a"], nested: { x: null } });
    expect(fresh.has(plain)).toBe(true);
    for (const special of [{ n: 5n }, { b: bytes }, { deep: [{ x: Number.NaN }] }, { x: -0 }]) {
      const form = made.__storedDoc(special) as object;
      expect(form).toEqual(convexToJson(special as never));
      expect(fresh.has(form)).toBe(false);
    }
    // Plain again after a special one.
    expect(fresh.has(made.__storedDoc({ a: 1 }) as object)).toBe(true);
    expect(made.__storedNext({ b: 2, a: 1 }, false)).toEqual(convexToJson({ value: { a: 1, b: 2 }, done: false }));
    expect(made.__storedNext(undefined, true)).toEqual(convexToJson({ value: undefined, done: true }));
  });

  it("fail loudly when the code they patch has changed", () => {
    expect(() => patchConvexTest(convexTestSource.replace("const args = JSON.parse(func.exportArgs());", ""))).toThrow(/convex-test changed/);
    expect(() => patchConvexSyscalls("export function performSyscall() {}")).toThrow(/convex changed/);
  });
});

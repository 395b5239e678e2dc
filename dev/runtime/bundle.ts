// Builds one script that contains convex-test, the app's schema and every Convex
// module (plus the components named in convex.config.ts), ready to evaluate in an
// EdgeVM. Bundling is what lets the functions run in a Web-standard global scope
// like Convex's: Node built-ins are refused for modules without "use node".
import { readFileSync, readdirSync, statSync, existsSync } from "node:fs";
import { builtinModules } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { componentMounts, type ComponentMount } from "./componentMounts.ts";
import { RUNTIME_KEYS, symbolSource } from "./vm/runtimeKeys.ts";

const here = path.dirname(fileURLToPath(import.meta.url));

/** Files Convex would push: no multi-dot names (tests, configs), no declaration files. */
export function listConvexModules(functionsDir: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const full = path.join(dir, entry);
      if (statSync(full).isDirectory()) {
        if (entry === "node_modules" || entry.startsWith(".")) continue;
        walk(full);
        continue;
      }
      if (!/\.(ts|js|mjs|tsx|jsx)$/.test(entry) || entry.endsWith(".d.ts")) continue;
      const base = entry.replace(/\.[^.]+$/, "");
      if (base.includes(".")) continue;
      out.push(path.relative(functionsDir, full).split(path.sep).join("/"));
    }
  };
  walk(functionsDir);
  return out.sort();
}

const NODE_BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

function hasUseNode(file: string): boolean {
  try {
    const head = readFileSync(file, "utf8").slice(0, 2000);
    return /^\s*(\/\/[^\n]*\n\s*|\/\*[\s\S]*?\*\/\s*)*["']use node["']/.test(head);
  } catch {
    return false;
  }
}

/**
 * Turns `import.meta.glob("./pattern")` (used by components' `test` entries) into
 * a static module map, since esbuild has no such feature.
 */
function globToRegExp(pattern: string): RegExp {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "*" && pattern[i + 1] === "*") {
      re += "(?:.*/)?";
      i += pattern[i + 2] === "/" ? 2 : 1;
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

function expandGlob(dir: string, pattern: string): string[] {
  const rel = pattern.replace(/^\.\//, "");
  const re = globToRegExp(rel);
  const files: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d)) {
      const full = path.join(d, entry);
      if (statSync(full).isDirectory()) walk(full);
      else {
        const r = path.relative(dir, full).split(path.sep).join("/");
        if (re.test(r) && !r.endsWith(".d.ts") && !/\.test\.[jt]s$/.test(r)) files.push(r);
      }
    }
  };
  walk(dir);
  return files.sort();
}

export interface BundleOptions {
  /** Directory holding the Convex functions (schema.ts, _generated/, ...). */
  functionsDir: string;
}

export interface BuiltBundle {
  code: string;
  /** The bundle's source map (JSON), for mapping stack traces back to convex/*.ts. */
  sourceMap: unknown;
  modules: string[];
  components: ComponentMount[];
}

/**
 * `Object.keys(value).sort()` for the lean value copies below, without the sort: V8's
 * Array.prototype.sort first copies the array it sorts, and sorting every object's keys on
 * every document read and written was the runtime's largest single source of garbage (about a
 * tenth of what a proxied request allocates). An insertion sort in place gives the same order
 * (both compare UTF-16 code units) and is linear for keys already nearly in order, as stored
 * documents' are (only the system fields, appended last, move); above 64 keys it sorts as before.
 */
export const SORTED_KEYS_SOURCE = `
function __sortedKeys(value) {
  const keys = Object.keys(value);
  if (keys.length > 64) return keys.sort();
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i];
    let j = i - 1;
    if (keys[j] < key) continue;
    while (j >= 0 && keys[j] > key) {
      keys[j + 1] = keys[j];
      j--;
    }
    keys[j + 1] = key;
  }
  return keys;
}
`;

/**
 * `source` with `from` replaced by `to` exactly `count` times: an upgrade of `pkg` that moved
 * the patched code fails the build loudly instead of running unpatched.
 */
export function replaceExactly(source: string, from: string, to: string, count = 1, pkg = "convex-test"): string {
  const parts = source.split(from);
  if (parts.length - 1 !== count) {
    throw new Error(
      `${pkg} changed: expected ${count} occurrence(s) of ${JSON.stringify(from.slice(0, 80))}, found ${parts.length - 1}. ` +
        `Update the patches in dev/runtime/bundle.ts.`,
    );
  }
  return parts.join(to);
}

/** The text of `function <name>() {` up to the next top-level function. */
function topLevelFunction(source: string, name: string): string {
  const start = source.indexOf(`\nfunction ${name}() {`);
  const end = source.indexOf("\n}\n", start);
  if (start < 0 || end < 0) throw new Error(`convex-test changed: no top-level function ${name}; update dev/runtime/bundle.ts.`);
  return source.slice(start + 1, end + 3);
}

/**
 * Object twin of a convex-test syscall implementation: takes the argument object and returns
 * the result object instead of JSON text. The values inside are the same convexToJson forms,
 * so only the JSON.stringify/JSON.parse pair on each side of every syscall disappears.
 */
function objectSyscalls(source: string, name: string, objName: string): string {
  let fn = topLevelFunction(source, name).replace(`function ${name}() {`, `function ${objName}() {`);
  fn = replaceExactly(fn, "const args = JSON.parse(jsonArgs);", "const args = jsonArgs;");
  fn = fn.split("return JSON.stringify(").join("return (");
  // Syscalls that re-enter another one pass their arguments on in the same form.
  fn = fn.split("getSyscalls().asyncSyscall(").join("getSyscalls().asyncSyscallObj(");
  if (fn.includes("JSON.parse(jsonArgs)")) throw new Error(`convex-test changed: ${name} parses its arguments twice; update dev/runtime/bundle.ts.`);
  return fn;
}

/**
 * Patches applied to convex-test: exports of the internals the runtime reaches, and the
 * per-call costs that are ours to remove (see README, "Performance: function calls").
 */
export function patchConvexTest(original: string): string {
  // Documents handed to functions are stored values, valid Convex values by construction:
  // they take a lean conversion (below) instead of convexToJson's checks and error paths.
  let source = replaceExactly(
    original,
    "                const doc = getAndTrack(table, id);\n                return JSON.stringify(convexToJson(doc));",
    "                const doc = getAndTrack(table, id);\n                return JSON.stringify(__storedDoc(doc));",
  );
  source = replaceExactly(source, "return JSON.stringify(convexToJson({ value, done }));", "return JSON.stringify(__storedNext(value, done));");
  source = replaceExactly(source, "return JSON.stringify(convexToJson({\n                    page,", "return JSON.stringify(__storedPage({\n                    page,");
  // A query's remaining results in one syscall, for convex's collect() (and so take, first and
  // unique), patched to ask for them (patchConvexQuery): one call instead of one per document
  // plus the one that finds the end. Each document is read and counted as queryStreamNext does.
  source = replaceExactly(
    source,
    '            case "1.0/queryStreamNext": {',
    '            case "1.0/queryStreamNextAll": {\n' +
      "                const values = [];\n" +
      "                for (let next = db.queryNext(args.queryId); !next.done; next = db.queryNext(args.queryId)) {\n" +
      "                    if (next.value !== null) {\n" +
      "                        tracker?.trackRead(getDocumentSize(next.value));\n" +
      "                    }\n" +
      "                    values.push(__storedDoc(next.value));\n" +
      "                }\n" +
      "                return JSON.stringify({ values });\n" +
      "            }\n" +
      '            case "1.0/queryStreamNext": {',
  );
  source +=
    "\n// convexToJson for stored documents: the same output (keys sorted, undefined fields left out),\n" +
    "// without per-field path strings and checks; anything but plain data goes to convexToJson.\n" +
    "// __storedPlain stays true while only plain data (no convexToJson form) was produced.\n" +
    "let __storedPlain = true;\n" +
    SORTED_KEYS_SOURCE +
    "function __storedToJson(value) {\n" +
    "    if (value === null || typeof value === \"string\" || typeof value === \"boolean\") return value;\n" +
    "    if (typeof value === \"number\") {\n" +
    "        if (Number.isFinite(value) && !Object.is(value, -0)) return value;\n" +
    "        __storedPlain = false;\n" +
    "        return convexToJson(value);\n" +
    "    }\n" +
    "    if (Array.isArray(value)) {\n" +
    "        const out = new Array(value.length);\n" +
    "        for (let i = 0; i < value.length; i++) out[i] = __storedToJson(value[i]);\n" +
    "        return out;\n" +
    "    }\n" +
    "    if (typeof value === \"object\" && Object.getPrototypeOf(value) === Object.prototype) {\n" +
    "        const keys = __sortedKeys(value);\n" +
    "        const out = {};\n" +
    "        for (const k of keys) {\n" +
    "            const v = value[k];\n" +
    "            if (k.charCodeAt(0) === 36) __storedPlain = false;\n" +
    "            if (v !== undefined) out[k] = __storedToJson(v);\n" +
    "        }\n" +
    "        return out;\n" +
    "    }\n" +
    "    __storedPlain = false;\n" +
    "    return convexToJson(value);\n" +
    "}\n" +
    "// A document handed to a function: its JSON form, and when that is plain data (what\n" +
    "// jsonToConvex would copy into an equal value), marked so that the reader's jsonToConvex\n" +
    "// takes it as it is instead of copying it a second time. Nothing else holds the form.\n" +
    `const __freshJson = (globalThis[${symbolSource(RUNTIME_KEYS.freshJson)}] ??= new WeakSet());\n` +
    "function __storedDoc(doc) {\n" +
    "    __storedPlain = true;\n" +
    "    const out = __storedToJson(doc);\n" +
    "    if (__storedPlain && out !== null && typeof out === \"object\") __freshJson.add(out);\n" +
    "    return out;\n" +
    "}\n" +
    "function __storedNext(value, done) {\n" +
    "    const out = { done };\n" +
    "    if (value !== undefined) out.value = __storedDoc(value);\n" +
    "    return out;\n" +
    "}\n" +
    "function __storedPage(result) {\n" +
    "    const out = __storedToJson({ ...result, page: [] });\n" +
    "    out.page = result.page.map(__storedDoc);\n" +
    "    return out;\n" +
    "}\n";
  let s = replaceExactly(source, "global.Convex = {", "globalThis.Convex = {");
  // Syscalls without the JSON text round trip (convex/server's syscall.js is patched to use these).
  s = replaceExactly(
    s,
    "        get jsSyscall() {",
    "        get syscallObj() {\n            return getConvexGlobal().syscallObj;\n        },\n" +
      "        get asyncSyscallObj() {\n            return getConvexGlobal().asyncSyscallObj;\n        },\n" +
      "        get jsSyscall() {",
  );
  s = replaceExactly(
    s,
    "        asyncSyscall: asyncSyscallImpl(),",
    "        asyncSyscall: asyncSyscallImpl(),\n        syscallObj: syscallObjImpl(),\n        asyncSyscallObj: asyncSyscallObjImpl(),",
  );
  s += "\n" + objectSyscalls(source, "syscallImpl", "syscallObjImpl") + "\n" + objectSyscalls(source, "asyncSyscallImpl", "asyncSyscallObjImpl");
  // A call's arguments and result still go through convexToJson/jsonToConvex (the copy that
  // isolates caller and callee, and the check that they are Convex values), but not through
  // JSON text in between (convex/server's invoke* functions are patched to accept objects).
  s = replaceExactly(s, "JSON.stringify(convexToJson([parseArgs(args)]))", "convexToJson([parseArgs(args)])", 3);
  // Calls given object arguments get their result as an object (a string result is a string
  // value then, not JSON text); t.run still passes text and gets text back.
  s = replaceExactly(s, "const result = jsonToConvex(JSON.parse(rawResult));", "const result = jsonToConvex(rawResult);", 2);
  s = replaceExactly(
    s,
    "a.invokeAction(requestMetadata.requestId, convexToJson([parseArgs(args)]))));\n                return jsonToConvex(JSON.parse(rawResult));",
    "a.invokeAction(requestMetadata.requestId, convexToJson([parseArgs(args)]))));\n                return jsonToConvex(rawResult);",
  );
  // Every syscall that calls another function (and every scheduled run) called withAuth(),
  // which builds convex-test's whole set of call closures for the caller's auth. They depend
  // only on the auth object and the request options, both immutable, so they are built once
  // per pair; a caller without auth shares one empty AuthFake.
  s = replaceExactly(
    s,
    "function withAuth(auth = authStorage.getStore() ?? new AuthFake(), requestOptions = DEFAULT_REQUEST_OPTIONS) {",
    "const __withAuthCache = new WeakMap();\n" +
      "let __noAuth = null;\n" +
      "function withAuth(auth = authStorage.getStore() ?? (__noAuth ??= new AuthFake()), requestOptions = DEFAULT_REQUEST_OPTIONS) {\n" +
      "    let byOptions = __withAuthCache.get(auth);\n" +
      "    if (byOptions === undefined) __withAuthCache.set(auth, (byOptions = new WeakMap()));\n" +
      "    let api = byOptions.get(requestOptions);\n" +
      "    if (api === undefined) byOptions.set(requestOptions, (api = __withAuthUncached(auth, requestOptions)));\n" +
      "    return api;\n" +
      "}\n" +
      "function __withAuthUncached(auth, requestOptions) {",
  );
  // A function's argument and return validators are constant: convert them to JSON once per
  // function, not on every call (exportArgs() re-serializes the whole validator tree).
  s = replaceExactly(s, "const args = JSON.parse(func.exportArgs());", "const args = __exportedValidator(func, \"args\");");
  s = replaceExactly(s, "const returns = JSON.parse(func.exportReturns());", "const returns = __exportedValidator(func, \"returns\");");
  s +=
    "\nconst __validatorCache = new WeakMap();\n" +
    "function __exportedValidator(func, which) {\n" +
    "    let cached = __validatorCache.get(func);\n" +
    "    if (cached === undefined) {\n" +
    "        cached = { args: JSON.parse(func.exportArgs()), returns: JSON.parse(func.exportReturns()) };\n" +
    "        __validatorCache.set(func, cached);\n" +
    "    }\n" +
    "    return cached[which];\n" +
    "}\n";
  // Stored documents are never changed in place (every write stores a new object), so a
  // document's size, which the transaction limits ask for on every read, is computed once.
  s = replaceExactly(s, "getConvexSize, getDocumentSize, jsonToConvex, }", "getConvexSize as __getConvexSize, getDocumentSize as __getDocumentSize, jsonToConvex, }");
  s +=
    "\nconst __documentSizes = new WeakMap();\nconst __convexSizes = new WeakMap();\n" +
    "function __memoSize(cache, compute, value) {\n" +
    "    if (value === null || typeof value !== \"object\") return compute(value);\n" +
    "    let size = cache.get(value);\n" +
    "    if (size === undefined) {\n" +
    "        size = compute(value);\n" +
    "        cache.set(value, size);\n" +
    "    }\n" +
    "    return size;\n" +
    "}\n" +
    "function getDocumentSize(doc) { return __memoSize(__documentSizes, __getDocumentSize, doc); }\n" +
    "function getConvexSize(value) { return __memoSize(__convexSizes, __getConvexSize, value); }\n";
  // The accessors on globalThis are installed once when the engine starts; re-checking the
  // ~25 globals' descriptors on every call only matters to test setups that stub globals
  // between calls (vi.stubGlobal), which the runtime never does.
  s = replaceExactly(
    s,
    "function runWithGlobalOverrides(overrides, handler) {\n    installGlobalProxies();",
    "let __globalProxiesInstalled = false;\nfunction runWithGlobalOverrides(overrides, handler) {\n" +
      "    if (!__globalProxiesInstalled) {\n        installGlobalProxies();\n        __globalProxiesInstalled = true;\n    }",
  );
  // A mutation called by path (ctx.runMutation, a client, the scheduler) got a new
  // mutationGeneric wrapper on every call; it depends only on the handler and the caller's auth
  // (this closure), so it is made once per handler.
  s = replaceExactly(
    s,
    "    const runMutationWithHandler = async (handler, args, extraCtx = {}, functionPath, isNested, transactionLimits) => {\n        const m = mutationGeneric({",
    "    const __mutationWrappers = new WeakMap();\n" +
      "    const __mutationWrapperOf = (handler) => {\n" +
      "        let m = __mutationWrappers.get(handler);\n" +
      "        if (m === undefined) {\n" +
      "            m = mutationGeneric({\n" +
      "                handler: (ctx, a) => {\n" +
      "                    const testCtx = { ...ctx, auth: authStorage.getStore() ?? auth };\n" +
      "                    return runWithGlobalOverrides(transactionGlobalOverrides(), () => handler(testCtx, a));\n" +
      "                },\n" +
      "            });\n" +
      "            __mutationWrappers.set(handler, m);\n" +
      "        }\n" +
      "        return m;\n" +
      "    };\n" +
      "    const runMutationWithHandler = async (handler, args, extraCtx = {}, functionPath, isNested, transactionLimits) => {\n" +
      "        const m = extraCtx === __NO_EXTRA_CTX ? __mutationWrapperOf(handler) : mutationGeneric({",
  );
  s = replaceExactly(
    s,
    "const result = await runMutationWithHandler(resolved.handler, args, {}, resolved.functionPath, isNested, transactionLimits);",
    "const result = await runMutationWithHandler(resolved.handler, args, __NO_EXTRA_CTX, resolved.functionPath, isNested, transactionLimits);",
  );
  s += "\nconst __NO_EXTRA_CTX = Object.freeze({});\n";
  // The same for an httpAction's wrapper (one per route handler and caller's auth).
  s = replaceExactly(
    s,
    "            const [func] = found;\n            const a = httpActionGeneric((ctx, a) => {",
    "            const [func] = found;\n" +
      "            let __byFunc = __httpWrappers.get(byType);\n" +
      "            if (__byFunc === undefined) __httpWrappers.set(byType, (__byFunc = new WeakMap()));\n" +
      "            const a = __byFunc.get(func) ?? __byFunc.set(func, httpActionGeneric((ctx, a) => {",
  );
  s = replaceExactly(
    s,
    "                return runWithGlobalOverrides({}, () => getHandler(func)(testCtx, a));\n            });\n            const httpCtx = {",
    "                return runWithGlobalOverrides({}, () => getHandler(func)(testCtx, a));\n            })).get(func);\n            const httpCtx = {",
  );
  s += "\nconst __httpWrappers = new WeakMap();\n";
  // An httpAction's Request: the engine hands over header pairs Node's parser has checked and
  // takes the Request's own abort controller (dev/runtime/primitives.ts, TRUSTED_REQUEST)
  // instead of a signal the Request would follow; any other caller builds it as before.
  s = replaceExactly(s, "a.invokeHttpAction(new Request(url, init))", "a.invokeHttpAction(__newHttpRequest(url, init))");
  s +=
    `\nconst __TRUSTED_INIT = ${symbolSource(RUNTIME_KEYS.trustedInit)};\n` +
    "function __newHttpRequest(url, init) {\n" +
    "    const trusted = init?.[__TRUSTED_INIT];\n" +
    // The engine passes a trusted init only when the primitives have the factory.
    "    if (trusted === undefined) return new Request(url, init);\n" +
    `    const made = Request[${symbolSource(RUNTIME_KEYS.trustedRequest)}](url.href, init.method ?? "GET", trusted.headers, init.body ?? null);\n` +
    "    trusted.onRequest(made.abort);\n" +
    "    return made.request;\n" +
    "}\n";
  // Validators: every call's arguments and result and every written document are checked by
  // validateValidator, which tries each member of a union until one does not throw: every
  // member before the matching one built an Error with its message and stack. A check that only
  // answers yes or no runs first; when it says no, the original runs and throws its own error.
  s = replaceExactly(s, "function validateValidator(validator, value) {", "function __validateValidatorGeneral(validator, value) {");
  s = replaceExactly(
    s,
    "function hasPendingValues(value) {\n    if (value instanceof CommitTsPlaceholder) {",
    "function hasPendingValues(value) {\n    if (value === null || typeof value !== \"object\") {\n        return false;\n    }\n    if (value instanceof CommitTsPlaceholder) {",
  );
  // Every written document is searched for pending commit timestamps, twice per commit: the
  // fields are walked in place instead of through an Object.values array per object.
  s = replaceExactly(
    s,
    "        return Object.values(value).some(hasPendingValues);",
    "        for (const key in value) {\n" +
      "            if (Object.prototype.hasOwnProperty.call(value, key) && hasPendingValues(value[key])) return true;\n" +
      "        }\n" +
      "        return false;",
  );
  // A document id's table, asked for every id a validator checks: its leading digits counted
  // directly instead of matched by a regular expression (one match array per id).
  s = replaceExactly(
    s,
    "function tableNameFromId(id) {\n    const match = id.match(/^[0-9]+/);\n    if (!match || match[0].length === id.length) {\n        return null;\n    }\n    return id.slice(match[0].length);\n}",
    "function tableNameFromId(id) {\n" +
      "    let digits = 0;\n" +
      "    while (digits < id.length && id.charCodeAt(digits) >= 48 && id.charCodeAt(digits) <= 57) digits++;\n" +
      "    if (digits === 0 || digits === id.length) {\n        return null;\n    }\n" +
      "    return id.slice(digits);\n}",
  );
  s +=
    "\nfunction validateValidator(validator, value) {\n" +
    "    if (!__validatorAccepts(validator, value)) __validateValidatorGeneral(validator, value);\n" +
    "}\n" +
    "// True exactly when __validateValidatorGeneral(validator, value) would not throw.\n" +
    "function __validatorAccepts(validator, value) {\n" +
    "    switch (validator.type) {\n" +
    "        case \"null\": return value === null;\n" +
    "        case \"number\": return typeof value === \"number\";\n" +
    "        case \"bigint\": return typeof value === \"bigint\";\n" +
    "        case \"commitTs\": return typeof value === \"bigint\" || value instanceof CommitTsPlaceholder;\n" +
    "        case \"boolean\": return typeof value === \"boolean\";\n" +
    "        case \"string\": return typeof value === \"string\";\n" +
    "        case \"bytes\": return value instanceof ArrayBuffer;\n" +
    "        case \"any\": return true;\n" +
    "        case \"literal\": return value === validator.value;\n" +
    "        case \"id\": return typeof value === \"string\" && tableNameFromId(value) === validator.tableName;\n" +
    "        case \"array\": {\n" +
    "            if (!Array.isArray(value)) return false;\n" +
    "            for (const v of value) if (!__validatorAccepts(validator.value, v)) return false;\n" +
    "            return true;\n" +
    "        }\n" +
    "        case \"union\": {\n" +
    "            for (const v of validator.value) if (__validatorAccepts(v, value)) return true;\n" +
    "            return false;\n" +
    "        }\n" +
    "        case \"object\": {\n" +
    "            if (value === null || typeof value !== \"object\" || !isSimpleObject(value)) return false;\n" +
    "            const fields = validator.value;\n" +
    "            for (const k in fields) {\n" +
    "                const field = fields[k];\n" +
    "                const v = value[k];\n" +
    "                if (v === undefined) {\n" +
    "                    if (!field.optional) return false;\n" +
    "                } else if (!__validatorAccepts(field.fieldType, v)) return false;\n" +
    "            }\n" +
    "            for (const k of Object.keys(value)) if (fields[k] === undefined) return false;\n" +
    "            return true;\n" +
    "        }\n" +
    "        default: {\n" +
    "            try {\n" +
    "                __validateValidatorGeneral(validator, value);\n" +
    "                return true;\n" +
    "            } catch {\n" +
    "                return false;\n" +
    "            }\n" +
    "        }\n" +
    "    }\n" +
    "}\n";
  return (
    s +
    `\nexport { DatabaseFake as __DatabaseFake, TransactionManager as __TransactionManager,` +
    ` validateIndexRangeExpression as __validateIndexRangeExpression, evaluateRangeFilter as __evaluateRangeFilter,` +
    ` evaluateFieldPath as __evaluateFieldPath, evaluateQueryValue as __evaluateQueryValue, evaluateFilter as __evaluateFilter, runScheduledFunction as __runScheduledFunction,` +
    ` convexGlobalStorage as __convexGlobalStorage, frameworkSetTimeout as __frameworkSetTimeout,` +
    ` tableNameFromId as __tableNameFromId, validateValidator as __validateValidator, hasPendingValues as __hasPendingValues };\n`
  );
}

/**
 * convex/server's invokeQuery/invokeMutation/invokeAction: arguments given as an object (not
 * JSON text) are taken as they are, and the result is then returned as an object too. Callers
 * that pass text (the real Convex runtime's contract) get text back.
 */
export function patchConvexRegistration(source: string): string {
  let s = replaceExactly(
    source,
    "const args = jsonToConvex(JSON.parse(argsStr));",
    "const args = jsonToConvex(typeof argsStr === \"string\" ? JSON.parse(argsStr) : argsStr);",
    3,
    "convex",
  );
  s = replaceExactly(
    s,
    "return JSON.stringify(convexToJson(result === void 0 ? null : result));",
    "const resultJson = convexToJson(result === void 0 ? null : result);\n  return typeof argsStr === \"string\" ? JSON.stringify(resultJson) : resultJson;",
    3,
    "convex",
  );
  // An httpAction's ctx: convex builds its call, auth, storage, scheduler, vector search and
  // meta closures for every request, around a request id that is always "" (the closures keep
  // nothing else). Built once here; the handler never sees this object itself (convex-test's
  // wrapper hands it a copy with its own runQuery/runMutation/runAction and auth).
  s = replaceExactly(
    s,
    "async function invokeHttpAction(func, request) {\n  const requestId = \"\";\n  const calls = setupActionCalls(requestId);\n  const ctx = {\n    ...calls,",
    "let __httpActionCtx = null;\nasync function invokeHttpAction(func, request) {\n  const requestId = \"\";\n  const ctx = __httpActionCtx ??= {\n    ...setupActionCalls(requestId),",
    1,
    "convex",
  );
  return s;
}

/**
 * convex/server's QueryImpl.collect() (which take, first and unique use): the results after the
 * query starts come in one syscall (convex-test's queryStreamNextAll, patched in above) instead
 * of one per document and one more for the end. Same checks, same query states, same cleanup.
 */
export function patchConvexQuery(source: string): string {
  return replaceExactly(
    source,
    "  async collect() {\n    const out = [];\n    for await (const item of this) {\n      out.push(item);\n    }\n    return out;\n  }",
    "  async collect() {\n" +
      "    const queryId = this.startQuery();\n" +
      "    const { values } = await performAsyncSyscall(\"1.0/queryStreamNextAll\", { queryId });\n" +
      "    this.closeQuery();\n" +
      "    return values.map((json) => jsonToConvex(json));\n" +
      "  }",
    1,
    "convex",
  );
}

/**
 * convex/values' getConvexSize (the transaction limits ask it for every document read and
 * written) walks an object's fields through `Object.entries`, which builds an array of
 * [key, value] pairs per object visited. Here the same sum over the object's own enumerable
 * string keys, without the pairs (isSimpleObject has already ruled out other prototypes, so
 * for-in sees only own keys; the hasOwn check keeps that exact).
 */
export function patchConvexSize(source: string): string {
  return replaceExactly(
    source,
    "    for (const [key, val] of Object.entries(value)) {\n      if (val !== void 0) {",
    "    for (const key in value) {\n      if (!Object.prototype.hasOwnProperty.call(value, key)) continue;\n      const val = value[key];\n      if (val !== void 0) {",
    1,
    "convex",
  );
}

/**
 * convex/values' convexToJson, patchValueToJson and jsonToConvex, which every call's arguments
 * and result, every write and every document read go through: plain data (null, booleans, strings, finite numbers
 * other than -0, arrays, plain objects with valid field names) takes a lean copy first, with the
 * same output (keys sorted, undefined fields left out). The general code builds a path string
 * for every field it visits, for error messages only; anything the lean copy does not take
 * (bigints, bytes, special floats, `$` forms, other objects, invalid fields) goes to it, so
 * results and errors are unchanged.
 */
export function patchConvexValues(source: string): string {
  let s = replaceExactly(
    source,
    "export function jsonToConvex(value) {\n  if (value === null) {",
    `const __freshJson = (globalThis[${symbolSource(RUNTIME_KEYS.freshJson)}] ??= new WeakSet());\n` +
      "export function jsonToConvex(value) {\n" +
      "  if (value !== null && typeof value === \"object\" && __freshJson.delete(value)) return value;\n" +
      "  const lean = __leanFromJson(value);\n  return lean !== __NOT_LEAN ? lean : __jsonToConvexGeneral(value);\n}\n" +
      "function __jsonToConvexGeneral(value) {\n  if (value === null) {",
    1,
    "convex",
  );
  s = replaceExactly(
    s,
    "export function convexToJson(value) {\n  return convexToJsonInternal(value, value, \"\", false);\n}",
    "export function convexToJson(value) {\n  const lean = __leanToJson(value);\n  return lean !== __NOT_LEAN ? lean : convexToJsonInternal(value, value, \"\", false);\n}",
    1,
    "convex",
  );
  s = replaceExactly(
    s,
    "export function patchValueToJson(value) {\n  return convexToJsonInternal(value, value, \"\", true);\n}",
    "export function patchValueToJson(value) {\n  const lean = __leanPatchToJson(value);\n  return lean !== __NOT_LEAN ? lean : convexToJsonInternal(value, value, \"\", true);\n}",
    1,
    "convex",
  );
  return (
    s +
    SORTED_KEYS_SOURCE +
    `
const __NOT_LEAN = Symbol("not lean");
// A patch: top-level undefined fields are kept, as {$undefined: null} (they remove the field).
function __leanPatchToJson(value) {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return __leanToJson(value);
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return __NOT_LEAN;
  const keys = __sortedKeys(value);
  const out = {};
  for (const k of keys) {
    if (!__leanField(k)) return __NOT_LEAN;
    const v = value[k];
    if (v === void 0) {
      out[k] = { $undefined: null };
      continue;
    }
    const j = __leanToJson(v);
    if (j === __NOT_LEAN) return __NOT_LEAN;
    out[k] = j;
  }
  return out;
}
const __validFields = new Set();
function __leanField(k) {
  if (__validFields.has(k)) return true;
  if (k.length > MAX_IDENTIFIER_LEN || k.charCodeAt(0) === 36) return false;
  for (let i = 0; i < k.length; i += 1) {
    const c = k.charCodeAt(i);
    if (c < 32 || c >= 127) return false;
  }
  if (__validFields.size >= 10000) __validFields.clear();
  __validFields.add(k);
  return true;
}
// Each element through \`each\`; a hole or an element it does not take makes the array not lean.
function __leanArray(value, each) {
  const out = new Array(value.length);
  for (let i = 0; i < value.length; i++) {
    if (!(i in value)) return __NOT_LEAN;
    const v = each(value[i]);
    if (v === __NOT_LEAN) return __NOT_LEAN;
    out[i] = v;
  }
  return out;
}
function __leanToJson(value) {
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      return Number.isFinite(value) && !Object.is(value, -0) ? value : __NOT_LEAN;
    case "object": {
      if (value === null) return null;
      if (Array.isArray(value)) return __leanArray(value, __leanToJson);
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return __NOT_LEAN;
      const keys = __sortedKeys(value);
      const out = {};
      for (const k of keys) {
        const v = value[k];
        if (v === void 0) continue;
        if (!__leanField(k)) return __NOT_LEAN;
        const j = __leanToJson(v);
        if (j === __NOT_LEAN) return __NOT_LEAN;
        out[k] = j;
      }
      return out;
    }
    default:
      return __NOT_LEAN;
  }
}
function __leanFromJson(value) {
  switch (typeof value) {
    case "string":
    case "boolean":
    case "number":
      return value;
    case "object": {
      if (value === null) return null;
      if (Array.isArray(value)) return __leanArray(value, __leanFromJson);
      const keys = Object.keys(value);
      const out = {};
      for (const k of keys) {
        if (!__leanField(k)) return __NOT_LEAN;
        const v = __leanFromJson(value[k]);
        if (v === __NOT_LEAN) return __NOT_LEAN;
        out[k] = v;
      }
      return out;
    }
    default:
      return __NOT_LEAN;
  }
}
`
  );
}

/**
 * convex/server's syscall entry points: when the deployment offers the object syscalls
 * (patchConvexTest), arguments and results cross as objects instead of JSON text.
 */
export function patchConvexSyscalls(source: string): string {
  let s = replaceExactly(
    source,
    "const resultStr = Convex.syscall(op, JSON.stringify(arg));\n  return JSON.parse(resultStr);",
    "if (Convex.syscallObj !== void 0) return Convex.syscallObj(op, arg);\n  const resultStr = Convex.syscall(op, JSON.stringify(arg));\n  return JSON.parse(resultStr);",
    1,
    "convex",
  );
  s = replaceExactly(
    s,
    "    resultStr = await Convex.asyncSyscall(op, JSON.stringify(arg));\n  } catch (e) {",
    "    if (Convex.asyncSyscallObj !== void 0) return await Convex.asyncSyscallObj(op, arg);\n" +
      "    resultStr = await Convex.asyncSyscall(op, JSON.stringify(arg));\n  } catch (e) {",
    1,
    "convex",
  );
  return s;
}

/**
 * One line (so the source map's lines stay right) binding `ArrayBuffer` and `Uint8Array` inside
 * the bundle to the realm's intrinsics, with an own `Symbol.hasInstance` that also accepts the
 * host realm's instances (EdgeVM keeps the host constructors under `Symbol.for("node:<name>")`),
 * as EdgeVM's Proxies do: `x instanceof Uint8Array` is true for `new TextEncoder().encode(..)`.
 * Subclasses keep the ordinary check (`this` is the subclass). `globalThis.ArrayBuffer` is still
 * EdgeVM's Proxy, whose own `instanceof` answers the same.
 */
const BYTES_PRELUDE =
  "const __acceptHost = (C, H) => { if (typeof H === \"function\" && H !== C && !Object.prototype.hasOwnProperty.call(C, Symbol.hasInstance)) " +
  "{ const own = Function.prototype[Symbol.hasInstance]; Object.defineProperty(C, Symbol.hasInstance, { configurable: true, " +
  "value: function (v) { return own.call(this, v) || (this === C && own.call(H, v)); } }); } return C; }; " +
  "const ArrayBuffer = __acceptHost(new globalThis.ArrayBuffer(0).constructor, globalThis[Symbol.for(\"node:ArrayBuffer\")]), " +
  "Uint8Array = __acceptHost(new globalThis.Uint8Array(0).constructor, globalThis[Symbol.for(\"node:Uint8Array\")]);";

export async function buildBundle({ functionsDir }: BundleOptions): Promise<BuiltBundle> {
  const dir = path.resolve(functionsDir);
  if (!existsSync(path.join(dir, "schema.ts"))) {
    throw new Error(`${dir} has no schema.ts; point the runtime at a Convex functions directory.`);
  }
  if (!existsSync(path.join(dir, "_generated"))) {
    throw new Error(`${dir} has no _generated/ directory; run \`npm run codegen\` first.`);
  }
  const modules = listConvexModules(dir);
  const configPath = path.join(dir, "convex.config.ts");
  const components = existsSync(configPath)
    ? componentMounts(readFileSync(configPath, "utf8"), configPath)
    : [];

  // Lazy like Convex (and vite's import.meta.glob): a module is evaluated on first use.
  const moduleMap = modules
    .map((m) => `  ${JSON.stringify(`./convex/${m}`)}: () => import(${JSON.stringify(path.join(dir, m))}),`)
    .join("\n");
  const componentLines = components.map(
    (c, i) => `import c${i} from ${JSON.stringify(`${c.pkg}/test`)};`,
  );
  const componentList = components
    .map((c, i) => `  { name: ${JSON.stringify(c.name)}, register: c${i}.register },`)
    .join("\n");
  const entry = [
    `import { startEngine } from ${JSON.stringify(path.join(here, "vm", "engine.ts"))};`,
    `import schema from ${JSON.stringify(path.join(dir, "schema.ts"))};`,
    ...componentLines,
    `const modules = {\n${moduleMap}\n};`,
    `const components = [\n${componentList}\n];`,
    `startEngine({ schema, modules, components });`,
  ].join("\n");

  const hostRequired = new Set<string>();
  const result = await esbuild.build({
    stdin: { contents: entry, resolveDir: dir, loader: "ts", sourcefile: "runtime-entry.ts" },
    bundle: true,
    write: false,
    format: "iife",
    platform: "neutral",
    target: "es2022",
    mainFields: ["module", "main"],
    // Resolve packages from this project even for a functions dir outside it.
    nodePaths: [path.resolve(here, "../../node_modules")],
    conditions: ["worker", "browser", "import", "default"],
    sourcemap: "inline",
    logLevel: "silent",
    define: { "process.env.NODE_ENV": JSON.stringify("development") },
    plugins: [
      {
        name: "runtime",
        setup(build) {
          build.onResolve({ filter: /.*/ }, (args) => {
            if (!NODE_BUILTINS.has(args.path)) return undefined;
            const importer = args.importer;
            const fromNodeModules = importer.includes(`${path.sep}node_modules${path.sep}`);
            const fromUseNode = importer !== "" && hasUseNode(importer);
            // The runtime's own in-VM glue needs AsyncLocalStorage, like convex-test does.
            const fromRuntime = importer.startsWith(path.join(here, "vm") + path.sep);
            if (!fromNodeModules && !fromUseNode && !fromRuntime) {
              return {
                errors: [
                  {
                    text:
                      `${path.relative(process.cwd(), importer)} imports "${args.path}", a Node built-in. ` +
                      `Convex runs this file in its Web-standard runtime; add "use node" at the top ` +
                      `(actions only) or use a Web API instead.`,
                  },
                ],
              };
            }
            // One host AsyncLocalStorage for all of the bundle's (vm/asyncContext.ts).
            if (args.path === "async_hooks" || args.path === "node:async_hooks") {
              return { path: path.join(here, "vm", "asyncContext.ts") };
            }
            hostRequired.add(args.path);
            return { path: args.path, namespace: "host-builtin" };
          });
          build.onLoad({ filter: /.*/, namespace: "host-builtin" }, (args) => ({
            contents: `module.exports = __hostRequire(${JSON.stringify(args.path)});`,
            loader: "js",
          }));
          build.onLoad({ filter: /convex-test[\\/]dist[\\/]index\.js$/ }, (args) => ({
            contents: patchConvexTest(readFileSync(args.path, "utf8")),
            loader: "js",
          }));
          build.onLoad({ filter: /[\\/]convex[\\/]dist[\\/]esm[\\/]values[\\/]value\.js$/ }, (args) => ({
            contents: patchConvexValues(readFileSync(args.path, "utf8")),
            loader: "js",
          }));
          build.onLoad({ filter: /[\\/]convex[\\/]dist[\\/]esm[\\/]values[\\/]size\.js$/ }, (args) => ({
            contents: patchConvexSize(readFileSync(args.path, "utf8")),
            loader: "js",
          }));
          build.onLoad({ filter: /[\\/]convex[\\/]dist[\\/]esm[\\/]server[\\/]impl[\\/]syscall\.js$/ }, (args) => ({
            contents: patchConvexSyscalls(readFileSync(args.path, "utf8")),
            loader: "js",
          }));
          build.onLoad({ filter: /[\\/]convex[\\/]dist[\\/]esm[\\/]server[\\/]impl[\\/]query_impl\.js$/ }, (args) => ({
            contents: patchConvexQuery(readFileSync(args.path, "utf8")),
            loader: "js",
          }));
          build.onLoad({ filter: /[\\/]convex[\\/]dist[\\/]esm[\\/]server[\\/]impl[\\/]registration_impl\.js$/ }, (args) => ({
            contents: patchConvexRegistration(readFileSync(args.path, "utf8")),
            loader: "js",
          }));
          build.onLoad({ filter: /\.(ts|js)$/ }, (args) => {
            if (!args.path.includes(`${path.sep}@convex-dev${path.sep}`)) return undefined;
            const src = readFileSync(args.path, "utf8");
            if (!src.includes("import.meta.glob(")) return undefined;
            const fileDir = path.dirname(args.path);
            const replaced = src.replace(/import\.meta\.glob\(\s*["']([^"']+)["']\s*\)/g, (_m, pattern: string) => {
              const entries = expandGlob(fileDir, pattern).map(
                (f) => `${JSON.stringify(`./${f}`)}: () => import(${JSON.stringify(`./${f}`)})`,
              );
              return `({${entries.join(", ")}})`;
            });
            return {
              contents: replaced,
              loader: args.path.endsWith(".ts") ? "ts" : "js",
              resolveDir: fileDir,
            };
          });
        },
      },
    ],
  });
  // The inline source map must stay the script's last line, and the wrapper must not
  // add lines before the bundle, or stack traces would point at the wrong place.
  // Strict mode: Convex runs modules as ESM. `Object`/`Array` are the realm's own
  // intrinsics: EdgeVM replaces the globals with Proxies (so `instanceof` accepts
  // host-realm values), which taxes every Object.keys/Array.isArray in convex-test and
  // the functions by 2-4x; real Convex has plain intrinsics.
  // `ArrayBuffer` and `Uint8Array` are the realm's intrinsics too (every value conversion and
  // size computation asks `instanceof ArrayBuffer`, and EdgeVM's Proxy builds a new function
  // for each such check), but host-realm bytes are everywhere (TextEncoder, Response bodies,
  // Web Crypto), so their `instanceof` still accepts them: BYTES_PRELUDE.
  const text = result.outputFiles[0].text;
  const mapAt = text.lastIndexOf("//# sourceMappingURL=");
  const body = mapAt >= 0 ? text.slice(0, mapAt) : text;
  const map = mapAt >= 0 ? text.slice(mapAt).trim() : "";
  const code = `(function (__hostRequire) {"use strict"; const Object = ({}).constructor, Array = [].constructor;${BYTES_PRELUDE}${body}\n})\n`;
  const base64 = map.replace(/^\/\/# sourceMappingURL=data:application\/json;base64,/, "");
  const sourceMap = base64 ? JSON.parse(Buffer.from(base64, "base64").toString("utf8")) : null;
  return { code, sourceMap, modules, components };
}

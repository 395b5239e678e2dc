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

/** Patches applied to convex-test so the runtime can reach its internals. */
function patchConvexTest(source: string): string {
  const patched = source.replace("global.Convex = {", "globalThis.Convex = {");
  return (
    patched +
    `\nexport { DatabaseFake as __DatabaseFake, TransactionManager as __TransactionManager,` +
    ` validateIndexRangeExpression as __validateIndexRangeExpression, evaluateRangeFilter as __evaluateRangeFilter,` +
    ` evaluateFieldPath as __evaluateFieldPath, evaluateQueryValue as __evaluateQueryValue, evaluateFilter as __evaluateFilter, runScheduledFunction as __runScheduledFunction,` +
    ` convexGlobalStorage as __convexGlobalStorage, frameworkSetTimeout as __frameworkSetTimeout,` +
    ` tableNameFromId as __tableNameFromId };\n`
  );
}

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
  const text = result.outputFiles[0].text;
  const mapAt = text.lastIndexOf("//# sourceMappingURL=");
  const body = mapAt >= 0 ? text.slice(0, mapAt) : text;
  const map = mapAt >= 0 ? text.slice(mapAt).trim() : "";
  const code = `(function (__hostRequire) {"use strict"; const Object = ({}).constructor, Array = [].constructor;${body}\n})\n`;
  const base64 = map.replace(/^\/\/# sourceMappingURL=data:application\/json;base64,/, "");
  const sourceMap = base64 ? JSON.parse(Buffer.from(base64, "base64").toString("utf8")) : null;
  return { code, sourceMap, modules, components };
}

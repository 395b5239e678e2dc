// Offline codegen: the Convex CLI can generate api/server/dataModel without a
// deployment, but then it leaves out the `components` section (that part normally
// comes from the backend). We add it from convex/convex.config.ts so
// `components.rateLimiter` etc. type-check and resolve at run time.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const generated = path.join(root, "convex/_generated");
const require = createRequire(path.join(root, "package.json"));

execFileSync(
  process.platform === "win32" ? "npx.cmd" : "npx",
  ["convex", "codegen", "--system-udfs", "--typecheck", "disable"],
  { cwd: root, stdio: "inherit" },
);

interface Mount {
  name: string;
  pkg: string;
}

/** Reads `import x from "<pkg>/convex.config"` and `app.use(x, { name })` lines. */
export function componentMounts(configSource: string): Mount[] {
  const imports = new Map<string, string>();
  for (const m of configSource.matchAll(
    /import\s+(\w+)\s+from\s+["']([^"']+)\/convex\.config(?:\.js)?["']/g,
  )) {
    imports.set(m[1], m[2]);
  }
  const mounts: Mount[] = [];
  for (const m of configSource.matchAll(
    /app\.use\(\s*(\w+)\s*(?:,\s*\{[^}]*name:\s*["']([^"']+)["'][^}]*\})?\s*\)/g,
  )) {
    const pkg = imports.get(m[1]);
    if (!pkg) throw new Error(`convex.config.ts uses ${m[1]} but no component import was found for it`);
    mounts.push({ name: m[2] ?? defaultName(pkg), pkg });
  }
  return mounts;
}

function defaultName(pkg: string): string {
  const configPath = require.resolve(`${pkg}/convex.config.js`);
  const src = readFileSync(configPath, "utf8");
  const m = src.match(/defineComponent\(\s*["']([^"']+)["']/);
  if (!m) throw new Error(`Cannot find defineComponent(name) in ${pkg}`);
  return m[1];
}

const mounts = componentMounts(
  readFileSync(path.join(root, "convex/convex.config.ts"), "utf8"),
);

const dts = path.join(generated, "api.d.ts");
const js = path.join(generated, "api.js");
let dtsSrc = readFileSync(dts, "utf8");
let jsSrc = readFileSync(js, "utf8");

if (mounts.length > 0 && !dtsSrc.includes("export declare const components")) {
  const entries = mounts
    .map(
      (m) =>
        `  ${m.name}: import("${m.pkg}/_generated/component.js").ComponentApi<"${m.name}">;`,
    )
    .join("\n");
  dtsSrc += `\nexport declare const components: {\n${entries}\n};\n`;
  jsSrc = jsSrc
    .replace(
      'import { anyApi } from "convex/server";',
      'import { anyApi, componentsGeneric } from "convex/server";',
    )
    .concat("export const components = componentsGeneric();\n");
  writeFileSync(dts, dtsSrc);
  writeFileSync(js, jsSrc);
}
console.log(`codegen: ${mounts.map((m) => m.name).join(", ") || "no"} components added`);

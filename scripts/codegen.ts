// Offline codegen: the Convex CLI can generate api/server/dataModel without a
// deployment, but then it leaves out the `components` section (that part normally
// comes from the backend). We add it from convex/convex.config.ts so
// `components.rateLimiter` etc. type-check and resolve at run time.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { componentMounts } from "../dev/runtime/componentMounts.ts";

const root = path.resolve(import.meta.dirname, "..");
const generated = path.join(root, "convex/_generated");

execFileSync(
  process.platform === "win32" ? "npx.cmd" : "npx",
  ["convex", "codegen", "--system-udfs", "--typecheck", "disable"],
  { cwd: root, stdio: "inherit" },
);

const mounts = componentMounts(
  readFileSync(path.join(root, "convex/convex.config.ts"), "utf8"),
  path.join(root, "package.json"),
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

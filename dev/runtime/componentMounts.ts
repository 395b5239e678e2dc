// The components convex/convex.config.ts mounts, read from its source. Shared by the
// offline runtime (which registers each component with convex-test) and by
// `npm run codegen` (which adds the `components` section the Convex CLI leaves out
// when it generates without a deployment).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

export interface ComponentMount {
  /** Name the app mounts it under (the component path in convex-test). */
  name: string;
  /** npm package that ships `convex.config` and a `test` entry registering it. */
  pkg: string;
}

/**
 * Reads `import x from "<pkg>/convex.config"` and `app.use(x, { name })` lines.
 * A mount without a name gets the component's own name (its `defineComponent("...")`),
 * found by resolving the package from `resolveFrom` (a file path).
 */
export function componentMounts(configSource: string, resolveFrom: string): ComponentMount[] {
  const imports = new Map<string, string>();
  for (const m of configSource.matchAll(
    /import\s+(\w+)\s+from\s+["']([^"']+)\/convex\.config(?:\.js)?["']/g,
  )) {
    imports.set(m[1], m[2]);
  }
  const mounts: ComponentMount[] = [];
  for (const m of configSource.matchAll(
    /app\.use\(\s*(\w+)\s*(?:,\s*\{[^}]*name:\s*["']([^"']+)["'][^}]*\})?\s*\)/g,
  )) {
    const pkg = imports.get(m[1]);
    if (!pkg) throw new Error(`convex.config.ts uses ${m[1]} but no component import was found for it`);
    mounts.push({ name: m[2] ?? defaultComponentName(pkg, resolveFrom), pkg });
  }
  return mounts;
}

function defaultComponentName(pkg: string, resolveFrom: string): string {
  const require = createRequire(resolveFrom);
  const src = readFileSync(require.resolve(`${pkg}/convex.config.js`), "utf8");
  const m = src.match(/defineComponent\(\s*["']([^"']+)["']/);
  if (!m) throw new Error(`Cannot find defineComponent(name) in ${pkg}`);
  return m[1];
}

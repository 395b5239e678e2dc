import path from "node:path";
import { describe, expect, it } from "vitest";
import { componentMounts } from "./componentMounts.ts";

const from = path.join(import.meta.dirname, "x.ts");

describe("componentMounts", () => {
  it("reads component mounts and their names from convex.config.ts", () => {
    const source = `import a from "@convex-dev/rate-limiter/convex.config";\nimport b from "@convex-dev/workpool/convex.config";\nconst app = defineApp();\napp.use(a);\napp.use(b, { name: "providerPool" });`;
    expect(componentMounts(source, from)).toEqual([
      { name: "rateLimiter", pkg: "@convex-dev/rate-limiter" },
      { name: "providerPool", pkg: "@convex-dev/workpool" },
    ]);
  });

  it("accepts single quotes, a .js suffix and the same component mounted twice", () => {
    const source = `import pool from '@convex-dev/workpool/convex.config.js';\napp.use(pool, { name: 'emails' });\napp.use( pool , { maxParallelism: 2, name: "billing" } );`;
    expect(componentMounts(source, from)).toEqual([
      { name: "emails", pkg: "@convex-dev/workpool" },
      { name: "billing", pkg: "@convex-dev/workpool" },
    ]);
  });

  it("resolves default names the same from the repository root (codegen) as from convex/ (runtime)", () => {
    const source = `import a from "@convex-dev/rate-limiter/convex.config";\napp.use(a);`;
    const root = path.resolve(import.meta.dirname, "../..");
    expect(componentMounts(source, path.join(root, "package.json"))).toEqual(
      componentMounts(source, path.join(root, "convex/convex.config.ts")),
    );
  });

  it("has no mounts without app.use", () => {
    expect(componentMounts(`import { defineApp } from "convex/server";\nexport default defineApp();`, from)).toEqual([]);
  });

  it("refuses a mount whose component was not imported", () => {
    expect(() => componentMounts(`app.use(missing);`, from)).toThrow(/uses missing but no component import/);
  });
});

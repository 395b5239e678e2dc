// The runtime's V8 flags: valid for this Node, and the same in every place a runtime process starts.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { RUNTIME_NODE_FLAGS } from "./nodeFlags.ts";

const root = path.join(import.meta.dirname, "../..");

describe("RUNTIME_NODE_FLAGS", () => {
  it("are accepted by this Node (a bad one stops node with exit code 9)", () => {
    const run = spawnSync(process.execPath, [...RUNTIME_NODE_FLAGS, "-e", "process.stdout.write(JSON.stringify(process.execArgv))"], {
      encoding: "utf8",
    });
    expect(run.status).toBe(0);
    expect(run.stderr).toBe("");
    expect(JSON.parse(run.stdout)).toEqual(expect.arrayContaining([...RUNTIME_NODE_FLAGS]));
  });

  it("are what `npm run dev` and `npm run backend` start the runtime with", () => {
    const scripts = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")).scripts as Record<string, string>;
    for (const name of ["dev", "backend"]) {
      expect(scripts[name]).toContain(`tsx ${RUNTIME_NODE_FLAGS.join(" ")} dev/dev.ts`);
    }
  });

  it("are passed by every spawn of the standalone runtime", () => {
    for (const file of ["bench/stack.ts", "bench/soak/processes.ts"]) {
      const source = readFileSync(path.join(root, file), "utf8");
      expect(source).toContain('[...RUNTIME_NODE_FLAGS, "--import", "tsx", entry]');
    }
  });
});

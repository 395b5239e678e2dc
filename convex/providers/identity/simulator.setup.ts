// Tests only: the provider simulator on a free port for an adapter test file, reset (and Google's
// token cache cleared) before each test, closed after the file.
import { afterAll, beforeAll, beforeEach } from "vitest";
import { clearGoogleTokenCache } from "./google";

export interface Sim {
  url: string;
  configure(patch: Record<string, unknown>): unknown;
  reset(): void;
  close(): Promise<void>;
}

// Not a static import: the simulator is Node code for the root tsconfig.
const SIMULATOR_MODULE = "../../../dev/simulator/server.ts";

/** Registers the hooks; the returned getter gives the running simulator inside tests. */
export function useAdapterSimulator(): () => Sim {
  let sim: Sim | null = null;
  beforeAll(async () => {
    const { startSimulator } = (await import(/* @vite-ignore */ SIMULATOR_MODULE)) as { startSimulator(o: { port: number; useEnv: boolean }): Promise<Sim> };
    sim = await startSimulator({ port: 0, useEnv: false });
  });
  afterAll(async () => sim?.close());
  beforeEach(() => {
    sim?.reset();
    clearGoogleTokenCache();
  });
  return () => {
    if (!sim) throw new Error("the simulator is not running (call useAdapterSimulator at the top of the file)");
    return sim;
  };
}

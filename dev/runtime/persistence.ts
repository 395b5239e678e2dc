// Data that survives a restart: after commits (debounced) the whole database of
// every component is written to <dataDir>/snapshot.json (atomically, via rename),
// and loaded back on boot with ids, _creationTime and id counters preserved.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { HostEngine } from "./engineHost.ts";
import type { Logger } from "./deployment.ts";

const SNAPSHOT = "snapshot.json";
const DEBOUNCE_MS = 250;

export class Persistence {
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();
  private dirty = false;

  constructor(
    private dataDir: string,
    private engine: HostEngine,
    private log: Logger,
  ) {
    mkdirSync(dataDir, { recursive: true });
  }

  get file() {
    return path.join(this.dataDir, SNAPSHOT);
  }

  /** Restores the last snapshot, if any. Returns the number of documents loaded. */
  async load(): Promise<number> {
    if (!existsSync(this.file)) return 0;
    const json = readFileSync(this.file, "utf8");
    await this.engine.restore(json);
    const snap = JSON.parse(json) as { components: { documents: unknown[] }[] };
    return snap.components.reduce((n, c) => n + c.documents.length, 0);
  }

  markDirty() {
    this.dirty = true;
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, DEBOUNCE_MS);
  }

  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.writing = this.writing.then(async () => {
      if (!this.dirty) return;
      this.dirty = false;
      try {
        const json = await this.engine.snapshot();
        const tmp = `${this.file}.tmp`;
        writeFileSync(tmp, json);
        renameSync(tmp, this.file);
      } catch (e) {
        this.log.error(`could not write ${this.file}: ${(e as Error).message}`);
      }
    });
    return this.writing;
  }
}

// Data that survives a restart. Every commit's changed documents are appended to
// <dataDir>/log.jsonl (batched, ~100 ms); when the log grows large, and on close,
// the whole database is compacted into <dataDir>/snapshot.json (temp file + rename)
// and the log starts over. Boot = snapshot + log replay, with ids, _creationTime and
// id counters preserved. Appending keeps a busy deployment from re-serializing the
// whole database after every burst of writes.
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { HostEngine } from "./engineHost.ts";
import type { Logger } from "./deployment.ts";
import type { ComponentChange } from "./vm/engine.ts";

const SNAPSHOT = "snapshot.json";
const LOG = "log.jsonl";
const APPEND_EVERY_MS = 100;
/** Compact when the log passes this size (bytes). */
const COMPACT_AT = 32 * 1024 * 1024;

interface SnapshotComponent {
  path: string;
  nextDocId: number;
  lastCreationTime: number;
  documents: { _id: string }[];
}

interface Snapshot {
  version: 1;
  lastCommitTs: string;
  components: SnapshotComponent[];
}

/** Applies log entries on top of a snapshot (both as parsed JSON). */
export function replay(snapshot: Snapshot | null, logText: string): Snapshot | null {
  const lines = logText.split("\n").filter((l) => l.trim() !== "");
  if (snapshot === null && lines.length === 0) return null;
  const components = new Map<string, { nextDocId: number; lastCreationTime: number; docs: Map<string, unknown> }>();
  for (const c of snapshot?.components ?? []) {
    components.set(c.path, {
      nextDocId: c.nextDocId,
      lastCreationTime: c.lastCreationTime,
      docs: new Map(c.documents.map((d) => [d._id, d])),
    });
  }
  let lastCommitTs = BigInt(snapshot?.lastCommitTs ?? "0");
  for (const [i, line] of lines.entries()) {
    let entry: { ts: string; components: ComponentChange[] };
    try {
      entry = JSON.parse(line);
    } catch (e) {
      // Only the last line can be torn (the process died mid-append).
      if (i === lines.length - 1) break;
      throw new Error(`log line ${i + 1} is not JSON: ${(e as Error).message}`);
    }
    if (BigInt(entry.ts) > lastCommitTs) lastCommitTs = BigInt(entry.ts);
    for (const change of entry.components) {
      let c = components.get(change.path);
      if (!c) components.set(change.path, (c = { nextDocId: 0, lastCreationTime: 0, docs: new Map() }));
      c.nextDocId = Math.max(c.nextDocId, change.nextDocId);
      c.lastCreationTime = Math.max(c.lastCreationTime, change.lastCreationTime);
      for (const [id, doc] of Object.entries(change.docs)) {
        if (doc === null) c.docs.delete(id);
        else c.docs.set(id, doc);
      }
    }
  }
  return {
    version: 1,
    lastCommitTs: String(lastCommitTs),
    components: [...components].map(([p, c]) => ({
      path: p,
      nextDocId: c.nextDocId,
      lastCreationTime: c.lastCreationTime,
      documents: [...c.docs.values()] as { _id: string }[],
    })),
  };
}

export class Persistence {
  private timer: NodeJS.Timeout | null = null;
  private pending: string[] = [];
  private logBytes = 0;
  private compacting: Promise<void> | null = null;

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

  private get logFile() {
    return path.join(this.dataDir, LOG);
  }

  /** Restores snapshot + log, if any. Returns the number of documents loaded. */
  async load(): Promise<number> {
    const snapshot = existsSync(this.file) ? (JSON.parse(readFileSync(this.file, "utf8")) as Snapshot) : null;
    const logText = existsSync(this.logFile) ? readFileSync(this.logFile, "utf8") : "";
    this.logBytes = Buffer.byteLength(logText);
    const merged = replay(snapshot, logText);
    if (merged === null) return 0;
    await this.engine.restore(JSON.stringify(merged));
    return merged.components.reduce((n, c) => n + c.documents.length, 0);
  }

  /** One commit's changes (JSON from the engine). */
  record(changes: string) {
    this.pending.push(changes);
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.append();
    }, APPEND_EVERY_MS);
  }

  private append() {
    if (this.pending.length === 0) return;
    const text = this.pending.join("\n") + "\n";
    this.pending = [];
    try {
      appendFileSync(this.logFile, text);
      this.logBytes += Buffer.byteLength(text);
    } catch (e) {
      this.log.error(`could not append to ${this.logFile}: ${(e as Error).message}`);
    }
    if (this.logBytes > COMPACT_AT && !this.compacting) void this.compact();
  }

  /** Writes the whole database to snapshot.json and empties the log. */
  async compact(): Promise<void> {
    if (this.compacting) return this.compacting;
    this.compacting = (async () => {
      try {
        this.append();
        // Commits landing during the snapshot are in it and in `pending`; re-applying
        // them from the new log later is idempotent.
        const json = await this.engine.snapshot();
        const tmp = `${this.file}.tmp`;
        writeFileSync(tmp, json);
        renameSync(tmp, this.file);
        rmSync(this.logFile, { force: true });
        this.logBytes = 0;
      } catch (e) {
        this.log.error(`could not write ${this.file}: ${(e as Error).message}`);
      } finally {
        this.compacting = null;
      }
    })();
    return this.compacting;
  }

  /** Everything committed so far is on disk (compacted) when this resolves. */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    await this.compact();
  }
}

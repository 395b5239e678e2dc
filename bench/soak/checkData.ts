/**
 * Checks an offline runtime's data dir on its own, with no runtime running on it: the documents
 * per table, and the invariants that hold whatever traffic made them (no request billed twice,
 * every balance the sum of its events, each webhook recorded once, overage chunks tiling their
 * cursors). docs/runbooks/restore-backup.md runs it on a backup before and after a restore.
 *
 *   npx tsx bench/soak/checkData.ts <data dir> [--json]
 *
 * Exits 1 when an invariant fails, 2 when the dir holds no data.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { documentTotal, readTables } from "./processes.ts";
import { checkStoredData, type BalanceRow, type LedgerEvent, type OverageCursorRow, type OverageOutboxRow, type WebhookEventRow } from "./reconcile.ts";

function main(): number {
  const args = process.argv.slice(2);
  const json = args.includes("--json");
  const dir = args.find((a) => !a.startsWith("--"));
  if (!dir) {
    console.error("usage: npx tsx bench/soak/checkData.ts <data dir> [--json]");
    return 2;
  }
  const dataDir = path.resolve(dir);
  if (!existsSync(path.join(dataDir, "snapshot.json")) && !existsSync(path.join(dataDir, "log.jsonl"))) {
    console.error(`${dataDir} has neither snapshot.json nor log.jsonl: not a runtime data dir, or an empty one.`);
    return 2;
  }
  const tables = readTables(dataDir);
  const rows = <T>(table: string) => (tables.get(table) ?? []) as unknown as T[];
  const failures = checkStoredData({
    events: rows<LedgerEvent>("usageEvents"),
    balances: rows<BalanceRow>("usageMonthly"),
    webhookEvents: rows<WebhookEventRow>("webhookEvents"),
    outbox: rows<OverageOutboxRow>("overageOutbox"),
    cursors: rows<OverageCursorRow>("overageCursors"),
  });
  const counts = Object.fromEntries([...tables].map(([t, docs]) => [t, docs.length]).sort(([a], [b]) => String(a).localeCompare(String(b))));
  // The app's tables plus the components' (rate limiter, workpool): what the runtime counts at boot.
  const total = documentTotal(dataDir);
  if (json) {
    console.log(JSON.stringify({ dataDir, totalDocuments: total, counts, failures }, null, 2));
  } else {
    console.log(`${dataDir}: ${total} documents (app and components); the app's tables:`);
    for (const [table, n] of Object.entries(counts)) console.log(`  ${table.padEnd(32)} ${n}`);
    console.log(failures.length === 0 ? "every invariant holds" : `${failures.length} invariant(s) fail:\n${failures.map((f) => `  - ${f}`).join("\n")}`);
  }
  return failures.length === 0 ? 0 : 1;
}

process.exit(main());

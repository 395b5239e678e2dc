// Wire details of Convex's sync protocol that are easy to get subtly wrong.
// Source of truth: node_modules/convex/src/browser/sync/protocol.ts.

/** Timestamps travel as u64 little-endian bytes, base64-encoded. */
export function encodeTs(ts: bigint): string {
  const buf = Buffer.alloc(8);
  buf.writeBigUInt64LE(ts);
  return buf.toString("base64");
}

export function decodeTs(encoded: string): bigint {
  return Buffer.from(encoded, "base64").readBigUInt64LE();
}

export interface StateVersion {
  querySet: number;
  identity: number;
  ts: bigint;
}

export function encodeVersion(v: StateVersion) {
  return { querySet: v.querySet, identity: v.identity, ts: encodeTs(v.ts) };
}

export type QueryModification =
  | { type: "QueryUpdated"; queryId: number; value: unknown; logLines: string[]; journal: string | null }
  | {
      type: "QueryFailed";
      queryId: number;
      errorMessage: string;
      errorData?: unknown;
      logLines: string[];
      journal: string | null;
    }
  | { type: "QueryRemoved"; queryId: number };

/** The message Convex clients show for a function that does not exist or is not public. */
export function notFoundMessage(udfPath: string): string {
  return (
    `Could not find public function for '${udfPath}'. Did you forget to run ` +
    "`npx convex dev` or `npx convex deploy`?"
  );
}

/**
 * The error text a client receives. ConvexError keeps its message (its `data`
 * travels separately as errorData); other errors read like the backend's
 * "Uncaught Error: ..." so client code that shows them looks the same.
 */
export function clientErrorMessage(message: string, hasData: boolean): string {
  return hasData ? message : `Uncaught Error: ${message}`;
}

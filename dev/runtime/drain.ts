// Graceful shutdown of the runtime (Runtime.drain, then close): stop accepting connections, let
// the requests already in flight finish, then wait until the functions have gone quiet (a
// stream's settle runs after its response ended, a scheduled function may still be running),
// all within a deadline. close() then persists and exits, so a restart on the same data dir
// loses none of the work it had accepted.
import type http from "node:http";

export interface DrainOptions {
  /** Give up waiting after this long (ms); close() still persists what committed. Default 15 s. */
  timeoutMs?: number;
  /** The functions count as quiet after this long without a call (ms). Default 500. */
  quietMs?: number;
}

export interface DrainReport {
  /** True when everything in flight finished and the functions went quiet before the deadline. */
  drained: boolean;
  /** HTTP requests (function API and httpActions) still open when the drain ended. */
  inFlightLeft: number;
  /** Requests that were in flight when the drain began. */
  inFlightAtStart: number;
  waitedMs: number;
}

/** Counts the requests each server is answering: open from `request` until the response closes. */
export class InFlight {
  private open = 0;

  constructor(servers: http.Server[]) {
    for (const server of servers) {
      server.on("request", (_req: http.IncomingMessage, res: http.ServerResponse) => {
        this.open += 1;
        res.once("close", () => {
          this.open -= 1;
        });
      });
    }
  }

  get size(): number {
    return this.open;
  }
}

const POLL_MS = 20;

/**
 * Stops `servers` listening (connections already open finish their requests; idle keep-alive
 * ones are closed so clients reconnect elsewhere), waits for `inFlight` to reach zero, then for
 * `calls()` (the app's and components' function executions so far) to stay unchanged for
 * `quietMs`.
 */
export async function drainServers(servers: http.Server[], inFlight: InFlight, calls: () => number, options: DrainOptions = {}): Promise<DrainReport> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const quietMs = options.quietMs ?? 500;
  const started = Date.now();
  const deadline = started + timeoutMs;
  const inFlightAtStart = inFlight.size;
  for (const server of servers) server.close();
  const sleep = () => new Promise((resolve) => setTimeout(resolve, POLL_MS));
  while (inFlight.size > 0 && Date.now() < deadline) {
    // A keep-alive connection that just finished its request must not take another one.
    for (const server of servers) server.closeIdleConnections();
    await sleep();
  }
  let last = calls();
  let quietSince = Date.now();
  while (Date.now() - quietSince < quietMs && Date.now() < deadline) {
    await sleep();
    const now = calls();
    if (now !== last) {
      last = now;
      quietSince = Date.now();
    }
  }
  const drained = inFlight.size === 0 && Date.now() - quietSince >= quietMs;
  return { drained, inFlightLeft: inFlight.size, inFlightAtStart, waitedMs: Date.now() - started };
}

// Graceful shutdown of the runtime (Runtime.drain, then close), and the answer it gives while it
// starts (startingResponse). Shutdown: stop accepting connections, let
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
  private readonly open = new Set<http.ServerResponse>();
  private draining = false;

  constructor(servers: http.Server[]) {
    for (const server of servers) {
      server.on("request", (_req: http.IncomingMessage, res: http.ServerResponse) => {
        this.open.add(res);
        // A request that came on a kept-alive connection during the drain is answered, and
        // its connection closed after it, so the client's next request reconnects elsewhere.
        if (this.draining) res.shouldKeepAlive = false;
        res.once("close", () => {
          this.open.delete(res);
        });
      });
    }
  }

  get size(): number {
    return this.open.size;
  }

  /** From now on every response closes its connection when done. */
  startDraining(): void {
    this.draining = true;
    for (const res of this.open) if (!res.headersSent) res.shouldKeepAlive = false;
  }
}

const POLL_MS = 20;

/**
 * Stops `servers` listening and closes their idle keep-alive connections (so clients reconnect
 * elsewhere; a response in flight closes its connection when done), then waits until no request
 * is open and `calls()` (function executions so far) has stayed unchanged for `quietMs`: a
 * request that still arrives on a busy connection meanwhile is answered and waited for too.
 */
export async function drainServers(servers: http.Server[], inFlight: InFlight, calls: () => number, options: DrainOptions = {}): Promise<DrainReport> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const quietMs = options.quietMs ?? 500;
  const started = Date.now();
  const deadline = started + timeoutMs;
  const inFlightAtStart = inFlight.size;
  inFlight.startDraining();
  for (const server of servers) server.close();
  let last = calls();
  let quietSince = Date.now();
  let drained = false;
  while (Date.now() < deadline) {
    for (const server of servers) server.closeIdleConnections();
    const now = calls();
    if (inFlight.size > 0 || now !== last) {
      last = now;
      quietSince = Date.now();
    } else if (Date.now() - quietSince >= quietMs) {
      drained = true;
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  return { drained, inFlightLeft: inFlight.size, inFlightAtStart, waitedMs: Date.now() - started };
}

/**
 * The answer to a request that arrives while the runtime is starting (its ports listen before the
 * functions are loaded): 503 with retry-after, the connection closed, nothing run. The body is
 * OpenAI's error shape (what the proxy's clients read) with Convex's `code`/`message` beside it.
 */
export function startingResponse(_req: http.IncomingMessage, res: http.ServerResponse): void {
  const message = "The deployment is starting; retry in a second.";
  res.writeHead(503, { "content-type": "application/json", "retry-after": "1", connection: "close" });
  res.end(JSON.stringify({ code: "Starting", message, error: { message, type: "service_unavailable", param: null, code: "starting" } }));
}

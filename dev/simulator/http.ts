/**
 * The small HTTP vocabulary shared by the simulator's provider modules: routes, the per-request
 * context, typed errors that each provider renders in its own wire format, and response writers.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { SimulatorState, RequestLogEntry } from "./state.ts";

/** A failure the provider module renders in its own error format. */
export class SimHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details: { type?: string; code?: string | null; param?: string | null; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = "SimHttpError";
  }
}

/** How a provider spells its errors on the wire. */
export interface ProviderFormat {
  name: string;
  /** Header that tells the provider's SDK whether to retry (OpenAI: x-should-retry). */
  retryHeader?: string;
  renderError(error: SimHttpError): { body: unknown; headers?: Record<string, string> };
}

/** Per-request overrides read from `x-sim-*` headers (callers that reach the simulator directly). */
export interface RequestOverrides {
  failStatus: number | null;
  latencyMs: number | null;
  tokenIntervalMs: number | null;
  cutAfterChunks: number | null;
  completionTokens: number | null;
}

export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  params: string[];
  body: Buffer;
  requestId: string;
  state: SimulatorState;
  overrides: RequestOverrides;
  log: RequestLogEntry;
  /** Parsed JSON body; throws a 400 in the provider's format when it is not a JSON object. */
  json(): Record<string, unknown>;
  /** Resolves after `ms`, or early with false if the client went away meanwhile. */
  sleep(ms: number): Promise<boolean>;
  /** True once the client closed the connection. */
  closed(): boolean;
}

export interface Route {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  path: RegExp;
  provider: ProviderFormat;
  handle(ctx: RouteContext): Promise<void>;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { ...headers, "content-type": "application/json", "content-length": String(payload.length) });
  res.end(payload);
}

export function sendBytes(res: ServerResponse, status: number, body: Buffer, contentType: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...headers, "content-type": contentType, "content-length": String(body.length) });
  res.end(body);
}

/** Bodies above this are refused; the biggest legitimate request (embeddings batches) is far smaller. */
export const MAX_BODY_BYTES = 32 * 1024 * 1024;

export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new SimHttpError(413, `Request body exceeds ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function headerInt(value: string | string[] | undefined): number | null {
  if (typeof value !== "string" || value.trim() === "") return null;
  const n = Number(value);
  return Number.isInteger(n) && n >= 0 ? n : null;
}

export function readOverrides(req: IncomingMessage): RequestOverrides {
  const failStatus = headerInt(req.headers["x-sim-fail"]);
  return {
    failStatus: failStatus !== null && failStatus >= 400 && failStatus <= 599 ? failStatus : null,
    latencyMs: headerInt(req.headers["x-sim-latency-ms"]),
    tokenIntervalMs: headerInt(req.headers["x-sim-token-interval-ms"] ?? req.headers["x-sim-token-rate-ms"]),
    cutAfterChunks: headerInt(req.headers["x-sim-cut-after-chunks"]),
    completionTokens: headerInt(req.headers["x-sim-completion-tokens"]),
  };
}

/**
 * Pieces every simulated AI provider (OpenAI, Anthropic, Gemini, ElevenLabs) shares: the pacing
 * knob, the Bearer key, the fallback error message and the SSE writer with its stream-cut knob.
 * Only the mechanics live here; each provider keeps its own wire format (error envelope, SSE
 * framing, headers), so what a client sees stays exactly what that provider sends.
 */
import type { RouteContext, SimHttpError } from "./http.ts";

/** Interval between generated tokens for this request (the per-request header wins over config). */
export function tokenInterval(ctx: RouteContext): number {
  return ctx.overrides.tokenIntervalMs ?? ctx.state.config.tokenIntervalMs;
}

/** The key of an `Authorization: Bearer <key>` header, or "" when there is none. */
export function bearerKey(ctx: RouteContext): string {
  const header = ctx.req.headers.authorization;
  return typeof header === "string" && header.startsWith("Bearer ") ? header.slice(7).trim() : "";
}

/** The error's message, or the generic one a failure rule without a message gets. */
export function errorMessage(error: SimHttpError): string {
  return error.message || `Simulated error ${error.status}.`;
}

export interface SseEvent<T> {
  data: T;
  /** Wait before writing this event (the token interval times the tokens it stands for). */
  delayMs: number;
}

/**
 * Writes server-sent events with their spacing, each framed by `frame` (the provider's own
 * spelling). A stream cut (config or `x-sim-cut-after-chunks`) destroys the socket after that
 * many events: no finish, no usage, no end marker, and the client sees a connection reset,
 * exactly what an upstream dying mid-stream looks like. A client that left stops the writing.
 * `headers` add to (or, for a provider that spells it differently, replace) the SSE defaults.
 */
export async function writeSse<T>(
  ctx: RouteContext,
  events: SseEvent<T>[],
  frame: (data: T) => string,
  headers: Record<string, string> = {},
): Promise<void> {
  const cutAfter = ctx.overrides.cutAfterChunks ?? ctx.state.takeStreamCut();
  ctx.res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", connection: "keep-alive", ...headers });
  ctx.res.flushHeaders();
  ctx.log.status = 200;
  for (let i = 0; i < events.length; i++) {
    if (cutAfter !== null && i >= cutAfter) {
      ctx.log.outcome = "cut";
      ctx.res.destroy();
      return;
    }
    if (events[i].delayMs > 0 && !(await ctx.sleep(events[i].delayMs))) return;
    if (ctx.closed()) return;
    ctx.res.write(frame(events[i].data));
  }
  ctx.res.end();
}

/** OpenAI's SSE framing (also Gemini's OpenAI-compatible endpoint): `data: <json>` or `data: [DONE]`. */
export function dataFrame(data: unknown): string {
  return `data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`;
}

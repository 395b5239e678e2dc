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
  const cutAfter = ctx.overrides.cutAfterChunks ?? ctx.state.takeStreamCut() ?? ctx.state.takeProviderStreamCut(aiProviderOf(ctx.url.pathname));
  ctx.res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", connection: "keep-alive", ...headers });
  ctx.res.flushHeaders();
  ctx.log.status = 200;
  const served = ctx.log.served;
  if (served) served.eventsTotal = events.length;
  // The last write's flush: a cut waits for it, so the events sent before the upstream "dies"
  // reach the client (destroying the socket at once would drop what was still buffered, and the
  // served list would claim a usage event the client never got).
  let flushed: Promise<void> = Promise.resolve();
  for (let i = 0; i < events.length; i++) {
    if (cutAfter !== null && i >= cutAfter) {
      await flushed;
      ctx.log.outcome = "cut";
      ctx.res.destroy();
      return;
    }
    if (events[i].delayMs > 0 && !(await ctx.sleep(events[i].delayMs))) return;
    if (ctx.closed()) return;
    flushed = new Promise((resolve) => ctx.res.write(frame(events[i].data), () => resolve()));
    if (served) served.eventsWritten = i + 1;
  }
  ctx.res.end();
}

/** The providerFaults family of an AI route, by its path. */
export function aiProviderOf(pathname: string): string {
  if (pathname.startsWith("/v1/messages")) return "anthropic";
  if (pathname.startsWith("/v1beta/")) return "gemini";
  return "openai";
}

/**
 * Notes on the request log what this reply reports as usage (GET /_sim/served), before it is
 * written: a stream's `usageEvent` is the index of the event carrying it, so whether the usage
 * reached the caller follows from how many events were written.
 */
export function recordServed(ctx: RouteContext, usage: unknown, stream: { usageEvent: number | null } | null): void {
  ctx.log.served = { usage, stream: stream !== null, eventsWritten: 0, eventsTotal: 0, usageEvent: stream?.usageEvent ?? null };
}

/** OpenAI's SSE framing (also Gemini's OpenAI-compatible endpoint): `data: <json>` or `data: [DONE]`. */
export function dataFrame(data: unknown): string {
  return `data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`;
}

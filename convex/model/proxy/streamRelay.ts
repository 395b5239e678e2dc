// The chat stream relay, without I/O: upstream SSE text in, what the client should see out,
// and at the end the usage to bill. The httpAction's pump only moves bytes through it.
//  - forwards every event as OpenAI framed it;
//  - hides the usage-only chunk (and the `usage: null` field) when the client did not ask
//    for usage: we always ask upstream, so that a stream is billed at the provider's count;
//  - extracts the provider's usage; counts output deltas for an estimate if none arrives;
//  - detects failure (an `error` event, a broken connection, a stream without usage).
// Pure.
import type { NormalizedUsage } from "../usage/totals";
import { StreamedOutputCounter } from "./estimate";
import { formatSseData, SSE_DONE, SseParser } from "./sse";

export interface StreamOutcome {
  /** Sent last to a client still connected: [DONE] if upstream omitted it, or an error event. */
  trailer: string;
  usage: NormalizedUsage;
  usageSource: "provider" | "estimate";
  /** The provider finished the stream and reported usage. */
  completed: boolean;
}

export const STREAM_INTERRUPTED_ERROR = {
  message: "The AI provider's stream ended early; the partial response was billed by estimate.",
  type: "upstream_error",
  param: null,
  code: "upstream_stream_interrupted",
} as const;

export class StreamRelay {
  private readonly parser = new SseParser();
  private readonly counter: StreamedOutputCounter;
  private usage: NormalizedUsage | null = null;
  private sawDone = false;
  private sawError = false;

  constructor(
    private readonly opts: {
      clientWantsUsage: boolean;
      /** Output the request may produce in all (the hold's output part). */
      maxOutputTokens: number;
      /** The provider adapter's reading of a chunk's `usage` field. */
      readUsage: (raw: unknown) => NormalizedUsage | null;
    },
  ) {
    this.counter = new StreamedOutputCounter(opts.maxOutputTokens);
  }

  /** Decoded upstream text in; the text to send the client (possibly empty). */
  push(text: string): string {
    return this.parser.push(text).map((ev) => this.relay(ev.data)).join("");
  }

  /** End of upstream input: a final event that lacked its blank line. */
  end(): string {
    return this.parser.end().map((ev) => this.relay(ev.data)).join("");
  }

  /** What to bill and what to tell the client, once upstream is done or broke off. */
  outcome(upstreamBroke: boolean, promptTokens: number): StreamOutcome {
    const completed = this.usage !== null && !this.sawError && !upstreamBroke;
    const trailer = !completed
      ? formatSseData(JSON.stringify({ error: STREAM_INTERRUPTED_ERROR }))
      : this.sawDone
        ? ""
        : formatSseData(SSE_DONE);
    return {
      trailer,
      usage: this.usage ?? { tokensIn: promptTokens, cachedTokensIn: 0, tokensOut: this.counter.tokens, characters: 0 },
      usageSource: this.usage !== null ? "provider" : "estimate",
      completed,
    };
  }

  private relay(data: string): string {
    if (data === SSE_DONE) {
      this.sawDone = true;
      return formatSseData(SSE_DONE);
    }
    let chunk: { usage?: unknown; choices?: unknown[]; error?: unknown } | null;
    try {
      chunk = JSON.parse(data);
    } catch {
      chunk = null;
    }
    if (chunk === null || typeof chunk !== "object") return formatSseData(data);
    if (chunk.error) this.sawError = true;
    const reported = this.opts.readUsage(chunk.usage);
    if (reported) this.usage = reported;
    this.counter.observe(chunk);
    if (this.opts.clientWantsUsage) return formatSseData(data);
    // The usage-only chunk exists because we asked for it; a client that did not ask must
    // see exactly the stream it would have seen from OpenAI.
    if (reported !== null && Array.isArray(chunk.choices) && chunk.choices.length === 0) return "";
    if ("usage" in chunk && chunk.usage === null) {
      // include_usage adds `usage: null` to every chunk; OpenAI omits the key otherwise.
      delete chunk.usage;
      return formatSseData(JSON.stringify(chunk));
    }
    return formatSseData(data);
  }
}

/**
 * One chat request of the soak, through the `openai` SDK as a customer sends it, recorded as a
 * ClientAttempt: its tag (the body's `user`, which reaches the upstream), how it ended, the
 * backend's request id when an answer came back, and its latency. The SDK's own retries are off:
 * the soak retries connection errors itself, each retry a new attempt with a new tag, so every
 * HTTP attempt is accounted for on its own.
 */
import OpenAI from "openai";
import { estimateChatPromptTokens } from "../../convex/model/proxy/estimate.ts";
import type { AttemptOutcome, ClientAttempt } from "./reconcile.ts";

export interface ChatPlan {
  tag: string;
  email: string;
  /** An API key or a provisioned credential: both authenticate as the account. */
  secret: string;
  model: string;
  messages: { role: "system" | "user"; content: string }[];
  maxOutput: number;
  stream: boolean;
  /** The client asks for the usage chunk itself (the proxy asks upstream either way). */
  wantUsage: boolean;
  /** Abort a stream after this many chunks, or any request after this many ms; null: no abort. */
  abort: { afterChunks: number } | { afterMs: number } | null;
}

const clients = new Map<string, OpenAI>();

function clientFor(site: string, secret: string): OpenAI {
  const key = `${site} ${secret}`;
  let client = clients.get(key);
  if (!client) {
    client = new OpenAI({ apiKey: secret, baseURL: `${site}/v1`, maxRetries: 0, timeout: 120_000 });
    clients.set(key, client);
  }
  return client;
}

/** Sends one attempt and reports how it ended; never throws. */
export async function sendChat(site: string, plan: ChatPlan): Promise<ClientAttempt> {
  const startedAt = Date.now();
  const started = performance.now();
  const controller = new AbortController();
  let timer: NodeJS.Timeout | null = null;
  if (plan.abort && "afterMs" in plan.abort) timer = setTimeout(() => controller.abort(), plan.abort.afterMs);
  const body = {
    model: plan.model,
    messages: plan.messages,
    max_completion_tokens: plan.maxOutput,
    user: plan.tag,
  };
  let backendRequestId: string | null = null;
  let httpStatus: number | null = null;
  let errorCode: string | undefined;
  let outcome: AttemptOutcome;
  const client = clientFor(site, plan.secret);
  try {
    if (!plan.stream) {
      const { response } = await client.chat.completions.create(body, { signal: controller.signal }).withResponse();
      backendRequestId = response.headers.get("x-request-id");
      httpStatus = response.status;
      outcome = "ok";
    } else {
      const { data: stream, response } = await client.chat.completions
        .create({ ...body, stream: true, ...(plan.wantUsage ? { stream_options: { include_usage: true } } : {}) }, { signal: controller.signal })
        .withResponse();
      backendRequestId = response.headers.get("x-request-id");
      httpStatus = response.status;
      let chunks = 0;
      outcome = "ok";
      for await (const _chunk of stream) {
        chunks += 1;
        if (plan.abort && "afterChunks" in plan.abort && chunks >= plan.abort.afterChunks) {
          controller.abort();
          outcome = "aborted_mid_stream";
          break;
        }
      }
    }
  } catch (error) {
    outcome = classify(error, backendRequestId !== null);
    if (error instanceof OpenAI.APIError && error.status !== undefined) {
      httpStatus = error.status;
      backendRequestId = error.headers?.get("x-request-id") ?? backendRequestId;
      if (typeof error.code === "string") errorCode = error.code;
      // An error event inside a stream that began with 200 keeps the stream's status.
      if (outcome === "stream_error") httpStatus = 200;
    }
  } finally {
    if (timer) clearTimeout(timer);
  }
  return {
    tag: plan.tag,
    email: plan.email,
    model: plan.model,
    stream: plan.stream,
    promptBound: estimateChatPromptTokens({ messages: plan.messages }),
    maxOutput: plan.maxOutput,
    outcome,
    httpStatus,
    backendRequestId,
    ...(errorCode ? { errorCode } : {}),
    startedAt,
    latencyMs: performance.now() - started,
  };
}

function classify(error: unknown, answered: boolean): AttemptOutcome {
  // dev/runtime/drain.ts startingResponse: the restarted runtime's ports listen before its functions load.
  if (error instanceof OpenAI.APIError && error.status === 503 && error.code === "starting") return "backend_starting";
  if (error instanceof OpenAI.APIUserAbortError) return answered ? "aborted_mid_stream" : "aborted_before_answer";
  if (error instanceof OpenAI.APIConnectionError) return answered ? "stream_error" : "connection_error";
  if (error instanceof OpenAI.APIError) return answered ? "stream_error" : "http_error";
  // A stream whose socket broke mid-read surfaces as a plain error (terminated, ECONNRESET).
  return answered ? "stream_error" : "connection_error";
}

const WORDS = "the proxy meters every request against the plan holds quota settles usage once streams tokens upstream ledger balance month account key rotation webhook invoice overage restart drain".split(" ");

/** A short prompt of `words` words from a seeded generator (the simulator's reply length follows its hash). */
export function promptOf(random: () => number, words: number): string {
  return Array.from({ length: words }, () => WORDS[Math.floor(random() * WORDS.length)]).join(" ");
}

// The back half of every metered request: call the provider, map its failures to our
// errors, and settle the hold exactly once.
import { type ActionCtx, env } from "../_generated/server";
import { internal } from "../_generated/api";
import type { UsageKind } from "../model/quota/admission";
import {
  type AttemptOutcome,
  classifyAttempt,
  DEFAULT_RETRY_POLICY,
  nextRetry,
  parseRetryAfter,
  retryAfterSeconds,
  type RetryPolicy,
  retryPolicyFromEnv,
} from "../model/proxy/retry";
import { UPSTREAM_DEADLINE_MS } from "../model/quota/holds";
import { NO_USAGE } from "../model/usage/totals";
import { providerFor } from "../providers/ai/registry";
import { type Deployment, fallbackFor } from "../providers/ai/fallbacks";
import { type AiProvider, type ProviderUsage, UpstreamUnavailableError } from "../providers/ai/types";
import { chooseMasterKey } from "../credentials/masterKeySelection";
import type { Grant } from "./admission";
import { admitAttempt, reportAttempt } from "./providerHealth";
import { CORS_HEADERS, errorResponse, jsonResponse, replyThenSettle } from "./respond";

// A model's provider comes from the price book (model/pricing.ts) through the registry.
export { providerFor };

export interface SettleInput {
  kind: UsageKind;
  model: string;
  usage: ProviderUsage;
  usageSource: "provider" | "estimate";
  status: "ok" | "client_abandoned" | "upstream_error";
  httpStatus: number;
  startedAt: number;
}

/**
 * The provider's answer as a 200 to the client, settled as "ok" at `input`'s usage while the
 * client reads it (respond.ts replyThenSettle): every JSON and audio endpoint's success.
 */
export function answerThenSettle(
  ctx: ActionCtx,
  grant: Grant,
  body: string | Uint8Array,
  contentType: string,
  input: Omit<SettleInput, "status" | "httpStatus">,
): Response {
  const settled: SettleInput = { ...input, status: "ok", httpStatus: 200 };
  return replyThenSettle(
    body,
    { status: 200, headers: { "content-type": contentType, ...CORS_HEADERS, ...grant.headers } },
    () => settle(ctx, grant, settled),
  );
}

const UTF8 = new TextDecoder();

/**
 * A provider's JSON reply, read once: its bytes, which go to the client as they came (no
 * decode and re-encode on the way through), and its text, which the endpoint reads usage from.
 */
export async function readReply(res: Response): Promise<{ bytes: Uint8Array; text: string }> {
  const bytes = new Uint8Array(await res.arrayBuffer());
  return { bytes, text: UTF8.decode(bytes) };
}

/** Attempts at settling: the mutation is idempotent by request id, so retrying is safe. */
const SETTLE_ATTEMPTS = 3;

export async function settle(ctx: ActionCtx, grant: Grant, input: SettleInput): Promise<number> {
  // The upstream's body has been read to its end (or given up on): its deadline can go.
  endDeadline(grant);
  for (let attempt = 1; ; attempt++) {
    try {
      return await settleOnce(ctx, grant, input);
    } catch (e) {
      // The work upstream is done and must be billed; a transient failure gets a retry.
      if (attempt >= SETTLE_ATTEMPTS) throw e;
      await new Promise((r) => setTimeout(r, 100 * attempt));
    }
  }
}

async function settleOnce(ctx: ActionCtx, grant: Grant, input: SettleInput): Promise<number> {
  const { costMicros } = await ctx.runMutation(internal.quota.ledger.settle, {
    requestId: grant.requestId,
    userId: grant.userId,
    apiKeyId: grant.apiKeyId,
    instanceId: grant.instanceId,
    kind: input.kind,
    provider: servedBy.get(grant) ?? providerFor(input.model).id,
    model: input.model,
    tokensIn: input.usage.tokensIn,
    cachedTokensIn: input.usage.cachedTokensIn,
    // Prompt tokens written to the provider's cache (Anthropic), billed at its cache-write rate.
    ...(input.usage.cacheWriteTokensIn ? { cacheWriteTokensIn: input.usage.cacheWriteTokensIn } : {}),
    tokensOut: input.usage.tokensOut,
    characters: input.usage.characters,
    usageSource: input.usageSource,
    status: input.status,
    httpStatus: input.httpStatus,
    latencyMs: Date.now() - input.startedAt,
    ...(grant.ipHash !== undefined ? { ipHash: grant.ipHash } : {}),
    ...(firstByteMs.has(grant) ? { ttfbMs: firstByteMs.get(grant) } : {}),
    heldOn: grant.heldOn,
  });
  return costMicros;
}

/** `served` names the upstream that answered: the provider, or a deployment it failed over to. */
export type UpstreamResult =
  | { ok: true; response: Response; provider: AiProvider; served: string }
  | { ok: false; response: Response };

/**
 * Which upstream settled each request, when it was not the model's own provider (a failover):
 * settle records that one, without every endpoint having to carry it.
 */
const servedBy = new WeakMap<Grant, string>();

/**
 * Time from the request's start to the upstream's response headers, for requests whose headers
 * come at once (streams, embeddings, speech): the latency alert's sample (model/ops/alerts.ts).
 */
const firstByteMs = new WeakMap<Grant, number>();

/**
 * Each request's upstream deadline (the timer behind its signal), cleared when the request
 * settles: every request that reached callUpstream settles once, after its reply's body has been
 * read or dropped. A timer left to run would keep the signal, its listeners and the attempt they
 * close over (the upstream body among them) alive for the deadline's full nine minutes.
 */
const deadlines = new WeakMap<Grant, () => void>();

function endDeadline(grant: Grant): void {
  deadlines.get(grant)?.();
  deadlines.delete(grant);
}

/**
 * Sends the request upstream through sendResilient (retries, breakers, failover), then maps
 * what came back. A failure before the provider accepted the work releases the hold (nothing
 * was consumed: providers do not bill refused requests) and answers with OpenAI's error shape:
 * 4xx from the provider pass through, its 5xx become 502, its 429 and overload become 503, an
 * unreachable provider is 502, an open breaker with nowhere to fail over is 503 with retry-after.
 */
export async function callUpstream(
  ctx: ActionCtx,
  grant: Grant,
  opts: { kind: UsageKind; model: string; path: string; body: unknown; startedAt: number },
): Promise<UpstreamResult> {
  const own = providerFor(opts.model);
  const primary: Deployment = { id: own.id, provider: own };
  const fallback = fallbackFor(own.id);
  // The provider's master key, chosen once here and held for every attempt below.
  const masterKey = await chooseMasterKey(ctx, own.id);
  // One deadline for the whole call, body included: the hold must outlive the request.
  const deadline = startDeadline(UPSTREAM_DEADLINE_MS);
  deadlines.set(grant, deadline.clear);
  const sent = await sendResilient(ctx, fallback ? [primary, fallback] : [primary], deadline.signal, {
    requestId: grant.requestId,
    masterKey,
    path: opts.path,
    body: opts.body,
    // Headers come at once for streams, embeddings and speech; a JSON (chat or legacy)
    // completion sends them only when the whole reply is generated, so it gets the full deadline.
    headersAtOnce: isStream(opts.body) || opts.kind === "embedding" || opts.kind === "speech",
  });

  if (sent.kind === "circuit_open") {
    await settleFailure(ctx, grant, opts, 503);
    return {
      ok: false,
      response: errorResponse(503, {
        message: `The AI provider (${sent.provider}) is failing, so requests to it are paused; retry after ${retryAfterSeconds(sent.retryAfterMs)} s.`,
        type: "service_unavailable",
        code: "upstream_circuit_open",
      }, { ...grant.headers, "retry-after": String(retryAfterSeconds(sent.retryAfterMs)) }),
    };
  }
  if (sent.kind === "unreachable") {
    await settleFailure(ctx, grant, opts, 502);
    return {
      ok: false,
      response: errorResponse(502, { message: sent.message, type: "upstream_error", code: "upstream_unreachable" }, grant.headers),
    };
  }
  const res = sent.response;
  if (res.ok) {
    if (sent.deployment.id !== own.id) servedBy.set(grant, sent.deployment.id);
    if (isStream(opts.body) || opts.kind === "embedding" || opts.kind === "speech") firstByteMs.set(grant, Date.now() - opts.startedAt);
    return { ok: true, response: res, provider: sent.deployment.provider, served: sent.deployment.id };
  }

  const text = await res.text().catch(() => "");
  if (res.status >= 400 && res.status < 500 && res.status !== 429 && res.status !== 401 && res.status !== 403) {
    // The caller's request was invalid upstream (bad parameter, context too long): pass it on.
    await settleFailure(ctx, grant, opts, res.status);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = null;
    }
    if (body && typeof body === "object" && "error" in body) return { ok: false, response: jsonResponse(res.status, body, grant.headers) };
    return {
      ok: false,
      response: errorResponse(res.status, { message: text.slice(0, 500) || "The AI provider refused the request.", type: "invalid_request_error" }, grant.headers),
    };
  }
  // Our credentials or capacity upstream, not the caller's fault.
  const status = res.status === 429 || res.status === 503 ? 503 : 502;
  await settleFailure(ctx, grant, opts, status);
  const headers = { ...grant.headers, ...(status === 503 ? { "retry-after": res.headers.get("retry-after") ?? "2" } : {}) };
  return {
    ok: false,
    response: errorResponse(status, {
      message: status === 503
        ? "The AI provider is overloaded right now; retry shortly."
        : `The AI provider failed (HTTP ${res.status}); retry shortly.`,
      type: status === 503 ? "service_unavailable" : "upstream_error",
      code: status === 503 ? "upstream_overloaded" : "upstream_error",
    }, headers),
  };
}

function isStream(body: unknown): boolean {
  return typeof body === "object" && body !== null && (body as { stream?: unknown }).stream === true;
}

type Sent =
  /** A reply to pass on: a success, a client error, or the last failure once retries and failover ran out. */
  | { kind: "response"; deployment: Deployment; response: Response }
  | { kind: "unreachable"; deployment: Deployment; message: string }
  /** Every upstream's breaker is open: nothing was sent. */
  | { kind: "circuit_open"; provider: string; retryAfterMs: number };

/**
 * Tries each upstream in turn (the model's provider, then its failover deployment), each with
 * retries, before the first byte reaches the client. Every attempt asks that upstream's breaker
 * first and reports its result to it; a client error (4xx) is returned at once, neither retried
 * nor counted. The upstreams come in as a parameter, so the caller decides the provider.
 */
async function sendResilient(
  ctx: ActionCtx,
  upstreams: readonly Deployment[],
  deadline: AbortSignal,
  send: { requestId: string; path: string; body: unknown; headersAtOnce: boolean; masterKey?: { id: string; value: string } },
): Promise<Sent> {
  const policy = retryPolicy();
  const request = { masterKey: send.masterKey, path: send.path, body: send.body, firstByteTimeoutMs: send.headersAtOnce ? policy.firstByteTimeoutMs : UPSTREAM_DEADLINE_MS };
  const startedAt = Date.now();
  const retryDeadline = startedAt + Math.min(policy.retryWindowMs, UPSTREAM_DEADLINE_MS);
  let last: Sent | null = null;
  let open: { provider: string; retryAfterMs: number } | null = null;
  const discard = (s: Sent | null) => {
    if (s?.kind === "response") s.response.body?.cancel().catch(() => {});
  };

  for (const deployment of upstreams) {
    for (let attempt = 1; ; attempt++) {
      const admission = await admitAttempt(ctx, deployment.id);
      if (!admission.allowed) {
        if (open === null || admission.retryAfterMs < open.retryAfterMs) open = { provider: deployment.id, retryAfterMs: admission.retryAfterMs };
        break;
      }
      const { outcome, sent } = await attemptOnce(deployment, request, deadline);
      const verdict = classifyAttempt(outcome);
      await reportAttempt(ctx, deployment.id, { probe: admission.probe, sample: verdict.sample, error: describe(outcome) });
      if (verdict.sample !== "failure") {
        discard(last);
        return sent;
      }
      discard(last);
      last = sent;
      if (deadline.aborted) return last;
      const next = nextRetry({ policy, attempt, outcome, now: Date.now(), deadlineAt: retryDeadline, random: Math.random() });
      // Each failed attempt, by request id (the x-request-id the client got): a status or reason, never a body or key.
      console.warn(`request ${send.requestId}: ${deployment.id} attempt ${attempt} failed (${describe(outcome)})${next.retry ? `, retrying in ${Math.round(next.delayMs)} ms` : ""}`);
      if (!next.retry) break;
      await new Promise((r) => setTimeout(r, next.delayMs));
    }
  }
  if (last) return last;
  // Nothing was sent: every upstream's breaker refused.
  return { kind: "circuit_open", provider: open?.provider ?? upstreams[0].id, retryAfterMs: open?.retryAfterMs ?? 1_000 };
}

/**
 * One attempt. Its signal aborts at the call's deadline, and also when no response headers
 * came within firstByteTimeoutMs (cleared once they do, so a long stream is not cut).
 */
async function attemptOnce(
  deployment: Deployment,
  request: { path: string; body: unknown; firstByteTimeoutMs: number; masterKey?: { id: string; value: string } },
  deadline: AbortSignal,
): Promise<{ outcome: AttemptOutcome; sent: Sent }> {
  const limit = attemptLimit(deadline, request.firstByteTimeoutMs);
  try {
    // The chosen master key is the model's own provider's; a failover deployment has its own key.
    const masterKey = deployment.id === deployment.provider.id ? request.masterKey : undefined;
    const response = await deployment.provider.send({ path: request.path, method: "POST", body: request.body, signal: limit.signal, masterKey });
    limit.end(false);
    return {
      outcome: { kind: "response", status: response.status, retryAfterMs: parseRetryAfter(response.headers, Date.now()) },
      sent: { kind: "response", deployment, response },
    };
  } catch (e) {
    limit.end(true);
    const timedOut = limit.timedOut();
    const message = timedOut || deadline.aborted
      ? `The AI provider did not answer within ${timedOut ? request.firstByteTimeoutMs : UPSTREAM_DEADLINE_MS} ms.`
      : e instanceof UpstreamUnavailableError ? e.message : "The AI provider could not be reached.";
    return {
      outcome: timedOut || deadline.aborted ? { kind: "timeout", message } : { kind: "unreachable", message },
      sent: { kind: "unreachable", deployment, message },
    };
  }
}

/**
 * An attempt's signal: the deadline's, and when the headers must come sooner, a timer that
 * aborts this attempt alone. `end(failed)`: the headers came (the deadline still governs the
 * body) or the attempt failed (nothing of it is left to abort).
 */
function attemptLimit(deadline: AbortSignal, firstByteTimeoutMs: number): { signal: AbortSignal; timedOut(): boolean; end(failed: boolean): void } {
  // A JSON completion's headers may take the whole deadline, which began before the attempt and
  // so always fires first: no controller, listener or timer of its own (most proxied requests).
  if (firstByteTimeoutMs >= UPSTREAM_DEADLINE_MS) return { signal: deadline, timedOut: () => false, end: () => {} };
  const controller = new AbortController();
  const onDeadline = () => controller.abort(deadline.reason);
  if (deadline.aborted) onDeadline();
  else deadline.addEventListener("abort", onDeadline, { once: true });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new Error(`No response headers within ${firstByteTimeoutMs} ms.`));
  }, firstByteTimeoutMs);
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    end(failed) {
      clearTimeout(timer);
      if (failed) deadline.removeEventListener("abort", onDeadline);
    },
  };
}

/** What a breaker row shows as the last error: a status or the reason, never a body or a key. */
function describe(outcome: AttemptOutcome): string {
  return outcome.kind === "response" ? `HTTP ${outcome.status}` : outcome.message;
}

let reportedPolicyError: string | null = null;

/** PROXY_RETRY_* as set on the deployment; a malformed value is logged once and the default used. */
function retryPolicy(): RetryPolicy {
  try {
    return retryPolicyFromEnv(env);
  } catch (e) {
    const message = (e as Error).message;
    if (message !== reportedPolicyError) {
      reportedPolicyError = message;
      console.error(`${message} Using the default retry policy until it is fixed.`);
    }
    return DEFAULT_RETRY_POLICY;
  }
}

async function settleFailure(
  ctx: ActionCtx,
  grant: Grant,
  opts: { kind: UsageKind; model: string; startedAt: number },
  httpStatus: number,
) {
  await settle(ctx, grant, {
    kind: opts.kind,
    model: opts.model,
    usage: NO_USAGE,
    usageSource: "provider",
    status: "upstream_error",
    httpStatus,
    startedAt: opts.startedAt,
  });
}

/**
 * Aborts the upstream call (body included) before the request's hold can expire. Not
 * AbortSignal.timeout: its timer cannot be cleared, and where it holds its signal strongly (the
 * offline runtime's Web primitives do) every request's attempt would stay in memory until then.
 */
function startDeadline(ms: number): { signal: AbortSignal; clear(): void } {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`The AI provider took longer than ${ms} ms.`)), ms);
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}

// Every Dex API endpoint goes through `dexEndpoint`: authenticate (auth.ts), the operation's
// scope, plan feature, request validation (the same zod schemas the OpenAPI document shows), the
// per-plan rate limit, then the handler. Helpers here turn the identity's facts and provider
// failures into OpenAI-shaped refusals, and record usage events.
import { MINUTE, RateLimiter } from "@convex-dev/rate-limiter";
import type { z } from "zod";
import { components, internal } from "../_generated/api";
import { type ActionCtx, httpAction } from "../_generated/server";
import type { Infer } from "convex/values";
import type { PublicHttpAction } from "convex/server";
import { limitOf } from "../model/dexApi/limits";
import { allows, operation, type Operation } from "../model/dexApi/operations";
import { describeIssues, providerId } from "../model/dexApi/schemas";
import { planHasFeature } from "../model/plans";
import { RetryableProviderError, type ProviderFailure } from "../providers/identity/types";
import { requestIdOf } from "../lib/requestId";
import { readJsonBody } from "../proxy/request";
import { badRequest, errorResponse, jsonResponse, withOpenAiErrors } from "../proxy/respond";
import { authenticateDex, type Principal } from "./auth";
import type { identityFactsValidator } from "./context";

const limiter = new RateLimiter(components.rateLimiter);

export interface Call<Q = unknown, B = unknown> {
  principal: Principal;
  request: Request;
  requestId: string;
  /** The `{id}` path parameter, validated. */
  id: string;
  query: Q;
  body: B;
  started: number;
}

const forbidden = (message: string, code: string) => errorResponse(403, { message, type: "permission_error", code });

/** The `{id}` after the operation's path prefix, or null when absent or malformed. */
function pathId(op: Operation, request: Request): string | null | undefined {
  if (!op.path.includes("{id}")) return undefined;
  const prefix = op.path.slice(0, op.path.indexOf("{id}"));
  const raw = new URL(request.url).pathname.slice(prefix.length);
  let id: string;
  try {
    id = decodeURIComponent(raw);
  } catch {
    return null;
  }
  return providerId.safeParse(id).success ? id : null;
}

type Handler<Q, B> = (ctx: ActionCtx, call: Call<Q, B>) => Promise<Response>;

/** The httpAction of operation `id` (model/dexApi/operations.ts). */
export function dexEndpoint<Q = unknown, B = unknown>(id: string, handler: Handler<Q, B>): PublicHttpAction {
  const op = operation(id);
  async function dexEndpointHandler(ctx: ActionCtx, request: Request): Promise<Response> {
    const started = Date.now();
    const auth = await authenticateDex(ctx, request);
    if (!auth.ok) return auth.response;
    const principal = auth.principal;
    if (!allows(op.access, principal)) {
      return op.access === "api_key"
        ? forbidden(`${op.method} ${op.path} needs an API key; OAuth access tokens cannot call it.`, "api_key_required")
        : forbidden(`This access token's grant does not include the '${typeof op.access === "object" ? op.access.scope : ""}' scope. Connect the instance again asking for it.`, "insufficient_scope");
    }
    if (op.feature !== null && !planHasFeature(principal.plan, op.feature)) {
      return forbidden(`Your plan (${principal.plan}) does not include ${op.feature}. Basic and Pro do: subscribe with POST /v1/billing/subscribe.`, "feature_not_in_plan");
    }
    const id = pathId(op, request);
    if (id === null) return badRequest(`Put a valid id in the path: ${op.method} ${op.path}.`, "id");
    let query: unknown = undefined;
    if (op.query) {
      const parsed = op.query.safeParse(Object.fromEntries(new URL(request.url).searchParams));
      if (!parsed.success) {
        const d = describeIssues(parsed.error);
        return badRequest(d.message, d.param);
      }
      query = parsed.data;
    }
    let body: unknown = undefined;
    if (op.body && !op.proxy && !op.handlerParsesBody) {
      const read = await readJsonBody(request);
      if (!read.ok) return read.response;
      const parsed = op.body.safeParse(read.value);
      if (!parsed.success) {
        const d = describeIssues(parsed.error);
        return badRequest(d.message, d.param);
      }
      body = parsed.data;
    }
    if (op.limit !== null) {
      const { rate, capacity } = limitOf(principal.plan, op.limit);
      const status = await limiter.limit(ctx, `dexApi:${op.limit}`, { key: principal.userId, config: { kind: "token bucket", rate, period: MINUTE, capacity } });
      if (!status.ok) {
        const seconds = Math.max(1, Math.ceil((status.retryAfter ?? 1000) / 1000));
        return errorResponse(
          429,
          { message: `Rate limit reached for ${op.limit} on the ${principal.plan} plan (${rate} per minute). Retry in ${seconds} s.`, type: "rate_limit_error", code: "rate_limit_exceeded" },
          { "retry-after": String(seconds), "x-should-retry": "true" },
        );
      }
    }
    return await handler(ctx, { principal, request, requestId: requestIdOf(request), id: id ?? "", query: query as Q, body: body as B, started });
  }
  return httpAction(withOpenAiErrors(dexEndpointHandler));
}

export type Parsed<S extends z.ZodType> = z.infer<S>;

// ---- The identity ----

export type IdentityFacts = Infer<typeof identityFactsValidator>;

const NOT_PROVISIONED = "This account has no identity yet. Basic and Pro plans include an email address, a phone number and Signal: subscribe with POST /v1/billing/subscribe.";

/**
 * The identity's facts when `needs` is met (the mailbox ready, Signal verified, the number held),
 * or the 403 `identity_not_ready` saying what is missing. A suspended or winding-down identity is
 * not ready for anything.
 */
export async function readyIdentity(ctx: ActionCtx, call: Call, needs: "mailbox" | "signal" | "phone"): Promise<{ ok: true; facts: IdentityFacts } | { ok: false; response: Response }> {
  const facts = await ctx.runQuery(internal.dexApi.context.identityFacts, { userId: call.principal.userId });
  if (facts === null) return { ok: false, response: forbidden(NOT_PROVISIONED, "identity_not_ready") };
  const live = facts.phase === "active" || facts.phase === "provisioning";
  const missing = !live
    ? `The identity is ${facts.status}.`
    : needs === "mailbox" && (!facts.mailboxReady || facts.emailAddress === null)
      ? "The mailbox is not ready yet."
      : needs === "signal" && (facts.signalStatus !== "verified" || facts.phoneNumber === null)
        ? `Signal is not verified yet (${facts.signalStatus}).`
        : needs === "phone" && facts.phoneNumber === null
          ? "The phone number is not assigned yet."
          : null;
  if (missing !== null) return { ok: false, response: forbidden(`${missing} GET /v1/identity/status shows each step.`, "identity_not_ready") };
  return { ok: true, facts };
}

// ---- Providers ----

export function notConfigured(provider: string): Response {
  return errorResponse(503, { message: `${provider} is not configured on this deployment. Contact Poindexter support.`, type: "server_error", code: "provider_not_configured" });
}

/** A provider's typed failure as the answer: its 4xx for what the caller sent, 502 for the rest. */
export function providerFailure(failure: ProviderFailure): Response {
  switch (failure.kind) {
    case "rate_limited_until": {
      const seconds = failure.until === null ? 60 : Math.max(1, Math.ceil((failure.until - Date.now()) / 1000));
      return errorResponse(429, { message: `The provider is rate limiting this account: ${failure.message}`, type: "rate_limit_error", code: "provider_rate_limited" }, { "retry-after": String(seconds) });
    }
    case "captcha_required":
      return forbidden("Signal needs a captcha solved on the dashboard before this number can send.", "identity_not_ready");
    case "conflict":
      return errorResponse(409, { message: failure.message, type: "invalid_request_error", code: "conflict" });
    case "permanent":
      if (failure.status === 400) return errorResponse(400, { message: `The provider refused the request: ${failure.message}`, type: "invalid_request_error", code: "provider_rejected" });
      if (failure.status === 404) return errorResponse(404, { message: "No such resource.", type: "invalid_request_error", code: "not_found" });
      return errorResponse(502, { message: `The provider refused the request: ${failure.message}`, type: "server_error", code: "upstream_error" });
  }
}

/** Runs a provider call; a retryable failure (network, 5xx, 429) answers 503 for the client to retry. */
export async function viaProvider<T>(run: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; response: Response }> {
  try {
    return { ok: true, value: await run() };
  } catch (e) {
    if (!(e instanceof RetryableProviderError)) throw e;
    return {
      ok: false,
      response: errorResponse(503, { message: `${e.provider} is unavailable right now (${e.message}). Retry shortly.`, type: "server_error", code: "provider_unavailable" }, { "retry-after": "2", "x-should-retry": "true" }),
    };
  }
}

/** The operation's usage event, after it succeeded. */
export async function recordUsage(ctx: ActionCtx, call: Call, op: Operation, provider: "google" | "signal", httpStatus: number): Promise<void> {
  if (op.usage === null) return;
  await ctx.runMutation(internal.dexApi.record.operation, {
    userId: call.principal.userId,
    kind: op.usage,
    provider,
    ...(call.principal.keyId !== undefined ? { apiKeyId: call.principal.keyId } : {}),
    ...(call.principal.instanceId !== undefined ? { instanceId: call.principal.instanceId } : {}),
    requestId: call.requestId,
    latencyMs: Date.now() - call.started,
    httpStatus,
  });
}

export { jsonResponse };

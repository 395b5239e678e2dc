// POST /v1/embeddings: held at the input's upper bound, settled at the provider's count.
import { httpAction } from "../_generated/server";
import type { ActionCtx } from "../_generated/server";
import { estimateEmbeddingInputTokens } from "../model/proxy/estimate";
import { admitRequest } from "./admission";
import { routeModel } from "./availability";
import { requestIdOf } from "../lib/requestId";
import { readModelRequest } from "./request";
import { badRequest, withOpenAiErrors } from "./respond";
import { answerThenSettle, callUpstream, providerFor, readReply } from "./upstream";

async function embeddingsHandler(ctx: ActionCtx, request: Request): Promise<Response> {
  const startedAt = Date.now();
  const opened = await readModelRequest(request);
  if (!opened.ok) return opened.response;
  const { secret, body, model } = opened;
  const promptTokens = estimateEmbeddingInputTokens(body.input);
  if (promptTokens === null) {
    return badRequest("'input' must be a string, an array of strings, or token arrays, and not empty.", "input");
  }
  const routed = await routeModel(ctx, request, model, "embedding");
  if (!routed.ok) return routed.response;
  const admission = await admitRequest(ctx, request, {
    secret,
    requestId: requestIdOf(request),
    kind: "embedding",
    model,
    promptTokens,
    requestedMaxOutput: null,
    choices: 1,
    characters: 0,
  });
  if (!admission.ok) return admission.response;
  const grant = admission.grant;

  const upstream = await callUpstream(ctx, grant, { kind: "embedding", model, path: "/embeddings", body, startedAt });
  if (!upstream.ok) return upstream.response;
  const { bytes, text } = await readReply(upstream.response);
  let usageRaw: unknown;
  try {
    usageRaw = (JSON.parse(text) as { usage?: unknown }).usage;
  } catch {
    usageRaw = undefined;
  }
  const reported = providerFor(model).translateUsageMetrics(usageRaw);
  return answerThenSettle(ctx, grant, bytes, "application/json", {
    kind: "embedding",
    model,
    usage: reported ?? { tokensIn: promptTokens, cachedTokensIn: 0, tokensOut: 0, characters: 0 },
    usageSource: reported ? "provider" : "estimate",
    startedAt,
  });
}

export const embeddings = httpAction(withOpenAiErrors(embeddingsHandler));

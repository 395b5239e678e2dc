// POST /v1/embeddings: held at the input's upper bound, settled at the provider's count.
import { httpAction } from "../_generated/server";
import { estimateEmbeddingInputTokens } from "../model/estimate";
import { admitRequest } from "./admission";
import { badRequest, CORS_HEADERS, newRequestId, readModelRequest, withOpenAiErrors } from "./respond";
import { callUpstream, provider, settle } from "./upstream";

export const embeddings = httpAction(withOpenAiErrors(async (ctx, request) => {
  const startedAt = Date.now();
  const opened = await readModelRequest(request);
  if (!opened.ok) return opened.response;
  const { body, model } = opened;
  const promptTokens = estimateEmbeddingInputTokens(body.input);
  if (promptTokens === null) {
    return badRequest("'input' must be a string, an array of strings, or token arrays, and not empty.", "input");
  }
  const admission = await admitRequest(ctx, request, {
    requestId: newRequestId(),
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
  const text = await upstream.response.text();
  let usageRaw: unknown;
  try {
    usageRaw = (JSON.parse(text) as { usage?: unknown }).usage;
  } catch {
    usageRaw = undefined;
  }
  const reported = provider.translateUsageMetrics(usageRaw);
  await settle(ctx, grant, {
    kind: "embedding",
    model,
    usage: reported ?? { tokensIn: promptTokens, cachedTokensIn: 0, tokensOut: 0, characters: 0 },
    usageSource: reported ? "provider" : "estimate",
    status: "ok",
    httpStatus: 200,
    startedAt,
  });
  return new Response(text, {
    status: 200,
    headers: { "content-type": "application/json", ...CORS_HEADERS, ...grant.headers },
  });
}));

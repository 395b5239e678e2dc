// Before any hold is placed: is the requested model served by this endpoint, and does its
// provider have a key on this deployment? A model whose provider is not configured is
// refused here (503 model_not_available) rather than failing upstream after the quota was
// touched. The price book decides both (model/pricing.ts).
import type { ActionCtx } from "../_generated/server";
import { capabilities } from "../model/accounts/accountState";
import { type Endpoint, endpointOf, isPriced } from "../model/pricing";
import { providerFor } from "../providers/ai/registry";
import type { AiProvider } from "../providers/ai/types";
import { authenticateCaller } from "./callers";
import { refusalResponse } from "./refusals";
import { errorResponse } from "./respond";

export type Routed = { ok: true; provider: AiProvider | null } | { ok: false; response: Response };

/** 503: the deployment has no key for the model's provider (x-should-retry: false). */
export function modelNotAvailable(model: string, provider: AiProvider): Response {
  return errorResponse(503, {
    message: `The model '${model}' is not available on this deployment: its provider (${provider.id}) is not configured.`,
    type: "service_unavailable",
    param: "model",
    code: "model_not_available",
  }, { "x-should-retry": "false" });
}

/**
 * The provider for `model` on `endpoint`, or the answer to send instead. An unpriced model
 * passes (provider null): the ledger refuses it with 404 after authenticating the key. The
 * refusals here authenticate the key first, so a caller with a bad key hears 401 before it
 * learns anything about models; requests for available models skip that extra call.
 */
export async function routeModel(ctx: ActionCtx, request: Request, model: string, endpoint: Endpoint): Promise<Routed> {
  if (!isPriced(model)) return { ok: true, provider: null };
  const provider = providerFor(model);
  const servedHere = endpointOf(model) === endpoint;
  if (servedHere && provider.configured()) return { ok: true, provider };
  const auth = await authenticateCaller(ctx, request);
  if (!auth.ok) return auth;
  const { state } = auth.caller;
  if (!capabilities(state).useProxy) return { ok: false, response: refusalResponse({ reason: "account_inactive", state }) };
  if (!servedHere) return { ok: false, response: refusalResponse({ reason: "model_not_supported", model }) };
  return { ok: false, response: modelNotAvailable(model, provider) };
}

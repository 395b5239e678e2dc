// GET /v1/models and /v1/models/{id}: the models the caller's plan may use, that are priced
// (nothing is served free), whose provider has a key on this deployment (a model that
// would only fail is not offered) and, for a provider credential, that its scopes cover.
import { httpAction } from "../_generated/server";
import type { ActionCtx } from "../_generated/server";
import { capabilities } from "../model/accounts/accountState";
import { scopeCovers } from "../model/credentials/lifecycle";
import { getPlan } from "../model/plans";
import { endpointOf } from "../model/pricing";
import { isAvailable, providerFor } from "../providers/ai/registry";
import { authenticateCaller, type Caller } from "./callers";
import { refusalResponse } from "./refusals";
import { jsonResponse, withOpenAiErrors } from "./respond";

/** Fixed creation time for listed models: clients only display it. */
const MODEL_CREATED = 1_700_000_000;

function modelObject(id: string) {
  return { id, object: "model", created: MODEL_CREATED, owned_by: providerFor(id).ownedBy };
}

/** The caller's models, or the refusal for an account that may not use the proxy. */
async function modelsOf(ctx: ActionCtx, request: Request): Promise<{ ok: true; models: string[] } | { ok: false; response: Response }> {
  const auth = await authenticateCaller(ctx, request);
  if (!auth.ok) return auth;
  const { plan, state, credentialScope }: Caller = auth.caller;
  if (!capabilities(state).useProxy) return { ok: false, response: refusalResponse({ reason: "account_inactive", state }) };
  // A provider credential lists only what it may call (its provider's models of its endpoints).
  const inScope = (model: string) => credentialScope === undefined || scopeCovers(credentialScope, { model, kind: endpointOf(model) });
  return { ok: true, models: getPlan(plan).models.filter((m) => isAvailable(m) && inScope(m)) };
}

async function listModelsHandler(ctx: ActionCtx, request: Request): Promise<Response> {
  const allowed = await modelsOf(ctx, request);
  if (!allowed.ok) return allowed.response;
  return jsonResponse(200, { object: "list", data: allowed.models.map(modelObject) });
}

async function retrieveModelHandler(ctx: ActionCtx, request: Request): Promise<Response> {
  const allowed = await modelsOf(ctx, request);
  if (!allowed.ok) return allowed.response;
  const id = decodeURIComponent(new URL(request.url).pathname.slice("/v1/models/".length));
  if (!allowed.models.includes(id)) return refusalResponse({ reason: "model_not_found", model: id });
  return jsonResponse(200, modelObject(id));
}

export const listModels = httpAction(withOpenAiErrors(listModelsHandler));
export const retrieveModel = httpAction(withOpenAiErrors(retrieveModelHandler));

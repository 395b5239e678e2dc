// GET /v1/openapi.json: the OpenAPI 3.1 document of everything under /v1, generated from the
// operation table and the zod schemas the handlers parse with (model/dexApi/openapi.ts). Public:
// it describes the API, nothing of an account.
import { type ActionCtx, env, httpAction } from "../_generated/server";
import { openApiDocument } from "../model/dexApi/openapi";
import { jsonResponse, withOpenAiErrors } from "../proxy/respond";

async function openApiHandler(_ctx: ActionCtx, request: Request): Promise<Response> {
  const server = env.CONVEX_SITE_URL ?? new URL(request.url).origin;
  return jsonResponse(200, openApiDocument(server), { "cache-control": "public, max-age=300" });
}

export const openApi = httpAction(withOpenAiErrors(openApiHandler));

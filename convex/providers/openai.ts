// OpenAI adapter. Base URL from OPENAI_BASE_URL (default https://api.openai.com/v1, the
// provider simulator in development and tests), key from OPENAI_API_KEY.
import { priceOf, speechCostMicros, tokenCostMicros } from "../model/pricing";
import type { AiProvider, IssuedCredential, NormalizedUsage, UpstreamRequest } from "./types";
import { UpstreamUnavailableError } from "./types";

const DEFAULT_BASE_URL = "https://api.openai.com/v1";

function baseUrl(): string {
  return (process.env.OPENAI_BASE_URL || DEFAULT_BASE_URL).replace(/\/+$/, "");
}

function apiKey(): string {
  const key = process.env.OPENAI_API_KEY;
  if (!key) throw new UpstreamUnavailableError("OPENAI_API_KEY is not set on this deployment.");
  return key;
}

function nonNegativeInt(x: unknown): number {
  return typeof x === "number" && Number.isFinite(x) && x > 0 ? Math.round(x) : 0;
}

export const openai: AiProvider = {
  id: "openai",

  async send(request: UpstreamRequest): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${apiKey()}` };
    if (request.body !== undefined) headers["content-type"] = "application/json";
    try {
      return await fetch(`${baseUrl()}${request.path}`, {
        method: request.method,
        headers,
        body: request.body === undefined ? undefined : JSON.stringify(request.body),
        signal: request.signal,
      });
    } catch (e) {
      throw new UpstreamUnavailableError(`OpenAI could not be reached: ${(e as Error).message}`, e);
    }
  },

  /**
   * A project service account is OpenAI's per-customer credential: it has its own key and can
   * be deleted without touching others. Needs OPENAI_ADMIN_KEY and OPENAI_PROJECT_ID.
   */
  async issueCredential({ label }): Promise<IssuedCredential> {
    const { admin, project } = adminConfig();
    const res = await fetch(`${baseUrl()}/organization/projects/${project}/service_accounts`, {
      method: "POST",
      headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
      body: JSON.stringify({ name: label }),
    });
    if (!res.ok) throw new UpstreamUnavailableError(`OpenAI refused to create a service account (${res.status}).`);
    const body = (await res.json()) as { id?: string; api_key?: { value?: string } };
    if (!body.id || !body.api_key?.value) {
      throw new UpstreamUnavailableError("OpenAI's service account response had no key.");
    }
    return { credentialId: body.id, secret: body.api_key.value };
  },

  async revokeCredential(credentialId: string): Promise<void> {
    const { admin, project } = adminConfig();
    const res = await fetch(
      `${baseUrl()}/organization/projects/${project}/service_accounts/${encodeURIComponent(credentialId)}`,
      { method: "DELETE", headers: { authorization: `Bearer ${admin}` } },
    );
    // Already gone is what we wanted.
    if (!res.ok && res.status !== 404) {
      throw new UpstreamUnavailableError(`OpenAI refused to delete service account ${credentialId} (${res.status}).`);
    }
  },

  estimateCost(model: string, usage: NormalizedUsage): number {
    return priceOf(model).kind === "speech"
      ? speechCostMicros(model, usage.characters)
      : tokenCostMicros(model, usage);
  },

  /** Chat: prompt/completion tokens with cached details; embeddings: prompt tokens only. */
  translateUsageMetrics(raw: unknown): NormalizedUsage | null {
    if (!raw || typeof raw !== "object") return null;
    const u = raw as {
      prompt_tokens?: unknown;
      completion_tokens?: unknown;
      prompt_tokens_details?: { cached_tokens?: unknown } | null;
    };
    if (typeof u.prompt_tokens !== "number") return null;
    const tokensIn = nonNegativeInt(u.prompt_tokens);
    return {
      tokensIn,
      cachedTokensIn: Math.min(tokensIn, nonNegativeInt(u.prompt_tokens_details?.cached_tokens)),
      tokensOut: nonNegativeInt(u.completion_tokens),
      characters: 0,
    };
  },

  price: priceOf,
};

function adminConfig() {
  const admin = process.env.OPENAI_ADMIN_KEY;
  const project = process.env.OPENAI_PROJECT_ID;
  if (!admin || !project) {
    throw new UpstreamUnavailableError("Set OPENAI_ADMIN_KEY and OPENAI_PROJECT_ID to issue per-customer OpenAI credentials.");
  }
  return { admin, project };
}

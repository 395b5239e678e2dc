// Second deployments that serve the same models as a primary provider, at the same price: a
// second OpenAI organisation or region, or any OpenAI-compatible host of OpenAI's models. The
// proxy tries one only when the primary's breaker is open or its retries ran out
// (proxy/upstream.ts). Each deployment is its own upstream for the breakers and in usage events
// ("openai-fallback"), and speaks its provider's wire format, so replies are read the same way.
import { env } from "../../_generated/server";
import type { ProviderId } from "../../model/pricing";
import { baseUrlFrom, sendJson } from "./common";
import { openai } from "./openai";
import type { AiProvider } from "./types";
import { UpstreamUnavailableError } from "./types";

export interface Deployment {
  /** The breaker's key and the `provider` a usage event records. */
  readonly id: string;
  readonly provider: AiProvider;
}

/** OPENAI_FALLBACK_BASE_URL (its /v1 base) and OPENAI_FALLBACK_API_KEY; unused until both are set. */
export const openaiFallback: Deployment = {
  id: "openai-fallback",
  provider: {
    ...openai,
    configured: () => Boolean(env.OPENAI_FALLBACK_BASE_URL && env.OPENAI_FALLBACK_API_KEY),
    async send(request) {
      const key = env.OPENAI_FALLBACK_API_KEY;
      const base = env.OPENAI_FALLBACK_BASE_URL;
      if (!key || !base) throw new UpstreamUnavailableError("OPENAI_FALLBACK_BASE_URL and OPENAI_FALLBACK_API_KEY are not both set.");
      return await sendJson("The fallback OpenAI deployment", `${baseUrlFrom(base, base)}${request.path}`, { authorization: `Bearer ${key}` }, request);
    },
  },
};

/** Where each provider's models fail over to. */
const FALLBACK_OF: Readonly<Partial<Record<ProviderId, Deployment>>> = { openai: openaiFallback };

/** The configured deployment `provider`'s models fail over to, or null. */
export function fallbackFor(provider: ProviderId): Deployment | null {
  const d = FALLBACK_OF[provider];
  return d && d.provider.configured() ? d : null;
}

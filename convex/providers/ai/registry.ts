// Which adapter serves a model: the price book names each model's provider
// (model/pricing.ts), so a model is routed, priced and billed from the same entry.
import { isPriced, type ProviderId, providerOf } from "../../model/pricing";
import { anthropic } from "./anthropic";
import { elevenlabs } from "./elevenlabs";
import { gemini } from "./gemini";
import { openai } from "./openai";
import type { AiProvider } from "./types";

export const PROVIDERS: Readonly<Record<ProviderId, AiProvider>> = { openai, anthropic, gemini, elevenlabs };

/** The adapter for a priced model (UnpricedModelError otherwise). */
export function providerFor(model: string): AiProvider {
  return PROVIDERS[providerOf(model)];
}

/** A priced model whose provider has a key on this deployment. */
export function isAvailable(model: string): boolean {
  return isPriced(model) && providerFor(model).configured();
}

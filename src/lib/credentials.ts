// Labels for provider credentials (convex/credentials/): providers, scopes and statuses as
// people read them.
import type { Tone } from "./accountState";

export type CredentialStatus = "active" | "rotating" | "revoked";

export const PROVIDER_LABELS: Record<string, string> = {
  openai: "OpenAI",
  anthropic: "Anthropic",
  gemini: "Google Gemini",
  elevenlabs: "ElevenLabs",
};

export const SCOPE_LABELS: Record<string, string> = {
  chat: "Chat",
  completion: "Completions (legacy)",
  embedding: "Embeddings",
  speech: "Speech",
};

export const CREDENTIAL_STATUS: Record<CredentialStatus, { label: string; tone: Tone }> = {
  active: { label: "Active", tone: "success" },
  rotating: { label: "Rotating", tone: "warning" },
  revoked: { label: "Revoked", tone: "neutral" },
};

/** When a credential stops working: its expiry, or the end of its overlap while rotating. */
export function worksUntil(c: { status: CredentialStatus; expiresAt: number; overlapEndsAt?: number }): number {
  return c.status === "rotating" && c.overlapEndsAt !== undefined ? Math.min(c.expiresAt, c.overlapEndsAt) : c.expiresAt;
}

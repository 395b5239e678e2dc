// Ctx helper for proxy/upstream.ts: the master key a request uses, chosen once at its start.
// With a single key configured there is nothing to choose and nothing is read; with several,
// one small query reads support's choice (masterKeySettings), falling back to the env's
// P_ACTIVE_KEY_ID. The key is then held for every attempt of the request.
import type { ActionCtx } from "../_generated/server";
import { internal } from "../_generated/api";
import { type MasterKey, selectKey } from "../model/credentials/masterKeys";
import type { ProviderId } from "../model/pricing";
import { keyringOf } from "../providers/ai/masterKeys";

export async function chooseMasterKey(ctx: ActionCtx, provider: ProviderId): Promise<MasterKey | undefined> {
  const ring = keyringOf(provider);
  // No key, or a malformed setting: the adapter answers with its own message.
  if (!ring.ok || ring.ring.keys.length === 0) return undefined;
  if (ring.ring.keys.length === 1) return ring.ring.keys[0];
  const chosen = await ctx.runQuery(internal.credentials.masterKeys.chosenId, { provider });
  return selectKey(ring.ring, chosen) ?? undefined;
}

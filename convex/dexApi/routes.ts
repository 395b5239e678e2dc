// Mounts the Dex API: every operation of model/dexApi/operations.ts that is not the AI proxy's,
// each at its path and method, with a CORS preflight per path. Paths with `{id}` are mounted as
// prefixes (the handler reads and validates the id after it). The OpenAPI document lists the same
// table, and a test compares it with the router.
import type { HttpRouter } from "convex/server";
import { OPERATIONS } from "../model/dexApi/operations";
import { preflight } from "../proxy/routes";
import { createKey, listKeys, revokeKey } from "./apiKeys";
import { billingPortal, billingSubscribe, billingSubscription } from "./billing";
import { createCalendarEvent, deleteCalendarEvent, listCalendarEvents, updateCalendarEvent } from "./calendar";
import { deleteEmail, getEmail, listInbox, sendEmail } from "./email";
import { identity, identityEmail, identityPhone, identitySignal, identityStatus } from "./identity";
import { listSignalContacts, listSignalMessages, listSmsMessages, sendSignal } from "./messaging";
import { openApi } from "./openapi";
import { usageRemaining, usageReport } from "./usage";

type Handler = Parameters<HttpRouter["route"]>[0]["handler"];

/** The handler of each operation id the Dex API serves. */
export const DEX_API_HANDLERS: Record<string, Handler> = {
  getIdentity: identity,
  getIdentityStatus: identityStatus,
  getIdentityEmail: identityEmail,
  getIdentityPhone: identityPhone,
  getIdentitySignal: identitySignal,
  sendEmail,
  listInbox,
  getEmail,
  deleteEmail,
  sendSignal,
  listSignalMessages,
  listSignalContacts,
  listSmsMessages,
  listCalendarEvents,
  createCalendarEvent,
  updateCalendarEvent,
  deleteCalendarEvent,
  getUsage: usageReport,
  getUsageRemaining: usageRemaining,
  listApiKeys: listKeys,
  createApiKey: createKey,
  revokeApiKey: revokeKey,
  getSubscription: billingSubscription,
  subscribe: billingSubscribe,
  billingPortal,
  getOpenApi: openApi,
};

export function mountDexApiRoutes(http: HttpRouter): void {
  const preflights = new Set<string>();
  for (const op of OPERATIONS) {
    if (op.proxy) continue;
    const handler = DEX_API_HANDLERS[op.id];
    if (handler === undefined) throw new Error(`The Dex API operation ${op.id} has no handler.`);
    const at = op.path.indexOf("{id}");
    if (at < 0) {
      http.route({ path: op.path, method: op.method, handler });
      if (!preflights.has(op.path)) http.route({ path: op.path, method: "OPTIONS", handler: preflight });
    } else {
      const pathPrefix = op.path.slice(0, at);
      http.route({ pathPrefix, method: op.method, handler });
      if (!preflights.has(pathPrefix)) http.route({ pathPrefix, method: "OPTIONS", handler: preflight });
      preflights.add(pathPrefix);
    }
    preflights.add(op.path);
  }
}

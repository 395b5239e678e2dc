// Signal (scope `signal`): POST /v1/signal/send, GET /v1/signal/messages (what the keep-alive
// receive stored), GET /v1/signal/contacts; and GET /v1/sms/messages (SMS the Telnyx webhook
// stored for the number; scope `identity`, as the texts belong to the identity's number).
import type { ActionCtx } from "../_generated/server";
import { internal } from "../_generated/api";
import type { z } from "zod";
import { operation } from "../model/dexApi/operations";
import type { pageQuery, sendSignalBody } from "../model/dexApi/schemas";
import * as signal from "../providers/identity/signal";
import { badRequest, jsonResponse } from "../proxy/respond";
import { type Call, dexEndpoint, notConfigured, providerFailure, readyIdentity, recordUsage, viaProvider } from "./endpoint";

type Page = z.infer<typeof pageQuery>;

async function signalAccount(ctx: ActionCtx, call: Call) {
  const ready = await readyIdentity(ctx, call, "signal");
  if (!ready.ok) return ready;
  const config = signal.signalConfigFromEnv();
  if (config === null) return { ok: false as const, response: notConfigured("Signal") };
  return { ok: true as const, config, number: ready.facts.phoneNumber ?? "" };
}

async function sendSignalHandler(ctx: ActionCtx, call: Call<unknown, z.infer<typeof sendSignalBody>>): Promise<Response> {
  const account = await signalAccount(ctx, call);
  if (!account.ok) return account.response;
  const recipients = [...new Set(call.body.recipients)];
  const sent = await viaProvider(() => signal.send(account.config, account.number, recipients, call.body.message));
  if (!sent.ok) return sent.response;
  if (sent.value.kind !== "ok") return providerFailure(sent.value);
  await recordUsage(ctx, call, operation("sendSignal"), "signal", 201);
  return jsonResponse(201, { object: "signal.sent", timestamp: sent.value.value.timestamp, recipients });
}

const paginationOpts = (q: Page) => ({ numItems: q.limit, cursor: q.cursor ?? null });

/**
 * Runs a page query; the cursor is the only thing in it a client wrote, so when a query given a
 * cursor fails, the cursor is what is wrong (Convex refuses cursors it did not issue).
 */
async function page<T>(q: Page, run: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; response: Response }> {
  try {
    return { ok: true, value: await run() };
  } catch (e) {
    if (q.cursor === undefined) throw e;
    return { ok: false, response: badRequest("'cursor' is not a cursor this endpoint returned. Start again without it.", "cursor") };
  }
}

async function listSignalMessagesHandler(ctx: ActionCtx, call: Call<Page>): Promise<Response> {
  const ready = await readyIdentity(ctx, call, "signal");
  if (!ready.ok) return ready.response;
  const found = await page(call.query, () => ctx.runQuery(internal.dexApi.context.signalMessagesPage, { userId: call.principal.userId, paginationOpts: paginationOpts(call.query) }));
  if (!found.ok) return found.response;
  const result = found.value;
  return jsonResponse(200, {
    object: "list",
    data: result.page.map((m) => ({ id: m.id, source: m.source, message: m.message, sent_at: m.sentAt, received_at: m.receivedAt })),
    next_cursor: result.isDone ? null : result.continueCursor,
  });
}

async function listSignalContactsHandler(ctx: ActionCtx, call: Call): Promise<Response> {
  const account = await signalAccount(ctx, call);
  if (!account.ok) return account.response;
  const listed = await viaProvider(() => signal.listContacts(account.config, account.number));
  if (!listed.ok) return listed.response;
  if (listed.value.kind !== "ok") return providerFailure(listed.value);
  return jsonResponse(200, { object: "list", data: listed.value.value.map((c) => ({ number: c.number, uuid: c.uuid, name: c.name, profile_name: c.profileName })) });
}

async function listSmsHandler(ctx: ActionCtx, call: Call<Page>): Promise<Response> {
  const ready = await readyIdentity(ctx, call, "phone");
  if (!ready.ok) return ready.response;
  const found = await page(call.query, () => ctx.runQuery(internal.dexApi.context.smsPage, { userId: call.principal.userId, paginationOpts: paginationOpts(call.query) }));
  if (!found.ok) return found.response;
  const result = found.value;
  return jsonResponse(200, {
    object: "list",
    data: result.page.map((m) => ({ id: m.id, from: m.from, to: m.to, text: m.text, received_at: m.receivedAt })),
    next_cursor: result.isDone ? null : result.continueCursor,
  });
}

export const sendSignal = dexEndpoint("sendSignal", sendSignalHandler);
export const listSignalMessages = dexEndpoint("listSignalMessages", listSignalMessagesHandler);
export const listSignalContacts = dexEndpoint("listSignalContacts", listSignalContactsHandler);
export const listSmsMessages = dexEndpoint("listSmsMessages", listSmsHandler);

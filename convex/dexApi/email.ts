// POST /v1/email/send, GET /v1/email/inbox, GET|DELETE /v1/email/messages/{id}: Gmail as the
// identity's mailbox user (providers/identity/workspace.ts), scope `email`.
import type { ActionCtx } from "../_generated/server";
import type { z } from "zod";
import { randomBase62 } from "../model/apiKeySecrets";
import { operation } from "../model/dexApi/operations";
import type { inboxQuery, SendEmailBody } from "../model/dexApi/schemas";
import { googleConfigFromEnv } from "../providers/identity/google";
import * as workspace from "../providers/identity/workspace";
import { errorResponse, jsonResponse } from "../proxy/respond";
import { type Call, dexEndpoint, notConfigured, providerFailure, readyIdentity, recordUsage, viaProvider } from "./endpoint";

const summary = (m: workspace.MailSummary) => ({
  id: m.id,
  thread_id: m.threadId,
  from: m.from,
  to: m.to,
  subject: m.subject,
  snippet: m.snippet,
  date: m.date,
  received_at: m.internalDate,
  labels: m.labels,
  unread: m.labels.includes("UNREAD"),
});

/** The mailbox and the Google config, or the refusal. */
async function mailbox(ctx: ActionCtx, call: Call) {
  const ready = await readyIdentity(ctx, call, "mailbox");
  if (!ready.ok) return ready;
  const config = googleConfigFromEnv();
  if (config === null) return { ok: false as const, response: notConfigured("Google Workspace") };
  return { ok: true as const, config, address: ready.facts.emailAddress ?? "" };
}

async function sendEmailHandler(ctx: ActionCtx, call: Call<unknown, SendEmailBody>): Promise<Response> {
  const box = await mailbox(ctx, call);
  if (!box.ok) return box.response;
  const b = call.body;
  const sent = await viaProvider(() =>
    workspace.sendMail(box.config, box.address, {
      to: b.to,
      cc: b.cc,
      bcc: b.bcc,
      subject: b.subject,
      text: b.text,
      html: b.html,
      replyTo: b.reply_to,
      inReplyTo: b.in_reply_to,
      date: new Date(),
      boundary: `pdx-${randomBase62(24)}`,
    }),
  );
  if (!sent.ok) return sent.response;
  if (sent.value.kind !== "ok") return providerFailure(sent.value);
  await recordUsage(ctx, call, operation("sendEmail"), "google", 200);
  return jsonResponse(200, { object: "email.sent", id: sent.value.value.id, thread_id: sent.value.value.threadId, from: box.address });
}

async function listInboxHandler(ctx: ActionCtx, call: Call<z.infer<typeof inboxQuery>>): Promise<Response> {
  const box = await mailbox(ctx, call);
  if (!box.ok) return box.response;
  const { limit, cursor, q } = call.query;
  const listed = await viaProvider(() => workspace.listInbox(box.config, box.address, { limit, pageToken: cursor, q }));
  if (!listed.ok) return listed.response;
  if (listed.value.kind !== "ok") return providerFailure(listed.value);
  const page = listed.value.value;
  return jsonResponse(200, { object: "list", data: page.messages.map(summary), next_cursor: page.nextPageToken });
}

const noSuchMessage = () => errorResponse(404, { message: "No such message in this mailbox.", type: "invalid_request_error", param: "id", code: "not_found" });

async function getEmailHandler(ctx: ActionCtx, call: Call): Promise<Response> {
  const box = await mailbox(ctx, call);
  if (!box.ok) return box.response;
  const got = await viaProvider(() => workspace.getMail(box.config, box.address, call.id));
  if (!got.ok) return got.response;
  if (got.value.kind !== "ok") return providerFailure(got.value);
  const m = got.value.value;
  if (m === null) return noSuchMessage();
  return jsonResponse(200, { object: "email.message", ...summary(m), cc: m.cc, text: m.text, html: m.html });
}

async function deleteEmailHandler(ctx: ActionCtx, call: Call): Promise<Response> {
  const box = await mailbox(ctx, call);
  if (!box.ok) return box.response;
  const trashed = await viaProvider(() => workspace.trashMail(box.config, box.address, call.id));
  if (!trashed.ok) return trashed.response;
  if (trashed.value.kind !== "ok") return providerFailure(trashed.value);
  if (!trashed.value.value) return noSuchMessage();
  await recordUsage(ctx, call, operation("deleteEmail"), "google", 200);
  return jsonResponse(200, { object: "email.message", id: call.id, deleted: true, trashed: true });
}

export const sendEmail = dexEndpoint("sendEmail", sendEmailHandler);
export const listInbox = dexEndpoint("listInbox", listInboxHandler);
export const getEmail = dexEndpoint("getEmail", getEmailHandler);
export const deleteEmail = dexEndpoint("deleteEmail", deleteEmailHandler);

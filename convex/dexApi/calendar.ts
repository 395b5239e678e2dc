// GET|POST /v1/calendar/events, PUT|DELETE /v1/calendar/events/{id}: the mailbox user's primary
// Google Calendar (providers/identity/workspace.ts), scope `calendar`.
import type { ActionCtx } from "../_generated/server";
import type { z } from "zod";
import { operation } from "../model/dexApi/operations";
import type { CalendarEventBody, calendarListQuery, EventTime } from "../model/dexApi/schemas";
import { googleConfigFromEnv } from "../providers/identity/google";
import * as workspace from "../providers/identity/workspace";
import { errorResponse, jsonResponse } from "../proxy/respond";
import { type Call, dexEndpoint, notConfigured, providerFailure, readyIdentity, recordUsage, viaProvider } from "./endpoint";

const timeIn = (t: EventTime): workspace.EventTimeIn => ("date" in t ? { date: t.date } : { dateTime: t.date_time, ...(t.time_zone ? { timeZone: t.time_zone } : {}) });

function eventIn(b: CalendarEventBody): workspace.EventInput {
  return {
    summary: b.summary,
    ...(b.description !== undefined ? { description: b.description } : {}),
    ...(b.location !== undefined ? { location: b.location } : {}),
    start: timeIn(b.start),
    end: timeIn(b.end),
    ...(b.attendees ? { attendees: b.attendees } : {}),
  };
}

const timeOut = (t: workspace.CalendarEventOut["start"]) => ({ date_time: t.dateTime, date: t.date, time_zone: t.timeZone });

const eventOut = (e: workspace.CalendarEventOut) => ({
  object: "calendar.event",
  id: e.id,
  status: e.status,
  summary: e.summary,
  description: e.description,
  location: e.location,
  start: timeOut(e.start),
  end: timeOut(e.end),
  attendees: e.attendees,
  html_link: e.htmlLink,
  updated: e.updated,
});

const noSuchEvent = () => errorResponse(404, { message: "No such event in this calendar.", type: "invalid_request_error", param: "id", code: "not_found" });

async function calendarOf(ctx: ActionCtx, call: Call) {
  const ready = await readyIdentity(ctx, call, "mailbox");
  if (!ready.ok) return ready;
  const config = googleConfigFromEnv();
  if (config === null) return { ok: false as const, response: notConfigured("Google Workspace") };
  return { ok: true as const, config, address: ready.facts.emailAddress ?? "" };
}

async function listEventsHandler(ctx: ActionCtx, call: Call<z.infer<typeof calendarListQuery>>): Promise<Response> {
  const cal = await calendarOf(ctx, call);
  if (!cal.ok) return cal.response;
  const q = call.query;
  const listed = await viaProvider(() => workspace.listEvents(cal.config, cal.address, { timeMin: q.time_min, timeMax: q.time_max, limit: q.limit, pageToken: q.cursor }));
  if (!listed.ok) return listed.response;
  if (listed.value.kind !== "ok") return providerFailure(listed.value);
  return jsonResponse(200, { object: "list", data: listed.value.value.events.map(eventOut), next_cursor: listed.value.value.nextPageToken });
}

async function createEventHandler(ctx: ActionCtx, call: Call<unknown, CalendarEventBody>): Promise<Response> {
  const cal = await calendarOf(ctx, call);
  if (!cal.ok) return cal.response;
  const created = await viaProvider(() => workspace.insertEvent(cal.config, cal.address, eventIn(call.body)));
  if (!created.ok) return created.response;
  if (created.value.kind !== "ok") return providerFailure(created.value);
  await recordUsage(ctx, call, operation("createCalendarEvent"), "google", 201);
  return jsonResponse(201, eventOut(created.value.value));
}

async function updateEventHandler(ctx: ActionCtx, call: Call<unknown, CalendarEventBody>): Promise<Response> {
  const cal = await calendarOf(ctx, call);
  if (!cal.ok) return cal.response;
  const updated = await viaProvider(() => workspace.updateEvent(cal.config, cal.address, call.id, eventIn(call.body)));
  if (!updated.ok) return updated.response;
  if (updated.value.kind !== "ok") return providerFailure(updated.value);
  if (updated.value.value === null) return noSuchEvent();
  await recordUsage(ctx, call, operation("updateCalendarEvent"), "google", 200);
  return jsonResponse(200, eventOut(updated.value.value));
}

async function deleteEventHandler(ctx: ActionCtx, call: Call): Promise<Response> {
  const cal = await calendarOf(ctx, call);
  if (!cal.ok) return cal.response;
  const deleted = await viaProvider(() => workspace.deleteEvent(cal.config, cal.address, call.id));
  if (!deleted.ok) return deleted.response;
  if (deleted.value.kind !== "ok") return providerFailure(deleted.value);
  if (!deleted.value.value) return noSuchEvent();
  await recordUsage(ctx, call, operation("deleteCalendarEvent"), "google", 200);
  return jsonResponse(200, { object: "calendar.event", id: call.id, deleted: true });
}

export const listCalendarEvents = dexEndpoint("listCalendarEvents", listEventsHandler);
export const createCalendarEvent = dexEndpoint("createCalendarEvent", createEventHandler);
export const updateCalendarEvent = dexEndpoint("updateCalendarEvent", updateEventHandler);
export const deleteCalendarEvent = dexEndpoint("deleteCalendarEvent", deleteEventHandler);

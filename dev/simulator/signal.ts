/**
 * signal-cli-rest-api (the bbernhard/signal-cli-rest-api HTTP surface): register a number,
 * verify it with the code Signal texts to it, send, receive, list contacts and unregister. When the number is
 * on the simulated Telnyx account the verification SMS arrives through Telnyx's signed
 * `message.received` webhook, which is how the product completes registration unattended.
 */
import { randomInt } from "node:crypto";
import { controlFormat } from "./control.ts";
import { SimHttpError, sendJson, type ProviderFormat, type Route, type RouteContext } from "./http.ts";
import { perStateStore, type SimulatorState } from "./state.ts";
import { deliverInboundSms, telnyxStore } from "./telnyx.ts";

/** The sender of verification texts (fictional 555-01xx range). */
export const SIGNAL_SMS_SENDER = "+12025550142";

export const signalFormat: ProviderFormat = {
  name: "signal",
  renderError(error) {
    return { body: { error: error.message }, headers: error.details.headers };
  },
};

interface Account {
  number: string;
  status: "pending" | "registered";
  code: string;
  uuid: string;
}

interface Envelope {
  envelope: {
    source: string;
    sourceNumber: string;
    sourceUuid: string;
    sourceName: string;
    sourceDevice: number;
    timestamp: number;
    dataMessage: { timestamp: number; message: string; expiresInSeconds: number; viewOnce: boolean };
  };
  account: string;
}

interface SignalStore {
  accounts: Map<string, Account>;
  /** Messages waiting for `GET /v1/receive/{number}`, per recipient. */
  inbox: Map<string, Envelope[]>;
  /** Everything sent, for assertions. */
  sent: { from: string; recipients: string[]; message: string; timestamp: number }[];
  /** Senders of messages delivered through the control route, per recipient (contacts). */
  receivedFrom: Map<string, Set<string>>;
  lastTimestamp: number;
}


function emptyStore(): SignalStore {
  return { accounts: new Map(), inbox: new Map(), sent: [], receivedFrom: new Map(), lastTimestamp: 0 };
}

export const signalStore: (state: SimulatorState) => SignalStore = perStateStore(emptyStore);

function number(raw: string): string {
  const decoded = decodeURIComponent(raw);
  if (!/^\+\d{8,15}$/.test(decoded)) throw new SimHttpError(400, `Invalid phone number "${decoded}": use E.164, e.g. +12015550100.`);
  return decoded;
}

function jsonBody(ctx: RouteContext): Record<string, unknown> {
  if (ctx.body.length === 0) return {};
  try {
    const value: unknown = JSON.parse(ctx.body.toString("utf8"));
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // handled below
  }
  throw new SimHttpError(400, "Couldn't process request - invalid request");
}

/** Millisecond timestamps that never repeat, since Signal identifies messages by them. */
function timestamp(store: SignalStore): number {
  store.lastTimestamp = Math.max(Date.now(), store.lastTimestamp + 1);
  return store.lastTimestamp;
}

async function register(ctx: RouteContext): Promise<void> {
  const phone = number(ctx.params[0]);
  const body = jsonBody(ctx);
  if (ctx.state.config.signal.requireCaptcha && typeof body.captcha !== "string") {
    throw new SimHttpError(400, "Captcha required for verification, get a captcha token from https://signalcaptchas.org/registration/generate.html and pass it as captcha.");
  }
  const store = signalStore(ctx.state);
  const existing = store.accounts.get(phone);
  const account: Account = {
    number: phone,
    status: existing?.status === "registered" ? "registered" : "pending",
    code: String(randomInt(0, 1_000_000)).padStart(6, "0"),
    uuid: existing?.uuid ?? crypto.randomUUID(),
  };
  store.accounts.set(phone, account);
  const onTelnyx = [...telnyxStore(ctx.state).numbers.values()].some((n) => n.phone_number === phone && n.status === "active");
  if (body.use_voice !== true && onTelnyx) {
    await deliverInboundSms(ctx.state, { from: SIGNAL_SMS_SENDER, to: phone, text: `Your Signal code: ${account.code}\nDo not share this code` });
  }
  ctx.res.writeHead(201);
  ctx.res.end();
}

async function verify(ctx: RouteContext): Promise<void> {
  const phone = number(ctx.params[0]);
  const account = signalStore(ctx.state).accounts.get(phone);
  if (!account) throw new SimHttpError(400, `Verification failed: ${phone} has no registration in progress.`);
  if (ctx.params[1].replace("-", "") !== account.code) throw new SimHttpError(400, "Verification failed: the verification code is incorrect.");
  account.status = "registered";
  ctx.res.writeHead(201);
  ctx.res.end();
}

function registered(ctx: RouteContext, phone: string): Account {
  const account = signalStore(ctx.state).accounts.get(phone);
  if (!account || account.status !== "registered") throw new SimHttpError(400, `User ${phone} is not registered.`);
  return account;
}

async function send(ctx: RouteContext): Promise<void> {
  const body = jsonBody(ctx);
  if (typeof body.number !== "string") throw new SimHttpError(400, "Couldn't process request - number missing");
  const sender = registered(ctx, number(body.number));
  const recipients = body.recipients;
  if (!Array.isArray(recipients) || recipients.length === 0 || !recipients.every((r) => typeof r === "string")) {
    throw new SimHttpError(400, "Couldn't process request - please provide at least one recipient");
  }
  if (typeof body.message !== "string") throw new SimHttpError(400, "Couldn't process request - message missing");
  const store = signalStore(ctx.state);
  const ts = timestamp(store);
  store.sent.push({ from: sender.number, recipients: recipients as string[], message: body.message, timestamp: ts });
  for (const recipient of recipients as string[]) {
    // Recipients registered on this simulator receive the message like a real second device.
    if (store.accounts.get(recipient)?.status !== "registered") continue;
    deliverEnvelope(store, { from: sender.number, fromUuid: sender.uuid, to: recipient, message: body.message, timestamp: ts });
  }
  sendJson(ctx.res, 201, { timestamp: String(ts) });
}

function deliverEnvelope(store: SignalStore, m: { from: string; fromUuid: string; to: string; message: string; timestamp: number }): void {
  const queue = store.inbox.get(m.to) ?? [];
  queue.push({
    envelope: {
      source: m.from,
      sourceNumber: m.from,
      sourceUuid: m.fromUuid,
      sourceName: "",
      sourceDevice: 1,
      timestamp: m.timestamp,
      dataMessage: { timestamp: m.timestamp, message: m.message, expiresInSeconds: 0, viewOnce: false },
    },
    account: m.to,
  });
  store.inbox.set(m.to, queue);
}

async function receive(ctx: RouteContext): Promise<void> {
  const phone = number(ctx.params[0]);
  registered(ctx, phone);
  const store = signalStore(ctx.state);
  const queued = store.inbox.get(phone) ?? [];
  // signal-cli hands each message out once.
  store.inbox.set(phone, []);
  sendJson(ctx.res, 200, queued);
}

async function unregister(ctx: RouteContext): Promise<void> {
  const phone = number(ctx.params[0]);
  registered(ctx, phone);
  const store = signalStore(ctx.state);
  store.accounts.delete(phone);
  store.inbox.delete(phone);
  ctx.res.writeHead(204);
  ctx.res.end();
}

/**
 * `GET /v1/contacts/{number}`: signal-cli's contact list, here everyone the account exchanged a
 * message with (sent to or received from), in signal-cli-rest-api's shape.
 */
async function contacts(ctx: RouteContext): Promise<void> {
  const phone = number(ctx.params[0]);
  registered(ctx, phone);
  const store = signalStore(ctx.state);
  const seen = new Set<string>();
  for (const m of store.sent) {
    if (m.from === phone) for (const r of m.recipients) seen.add(r);
    else if (m.recipients.includes(phone)) seen.add(m.from);
  }
  for (const from of store.receivedFrom.get(phone) ?? []) seen.add(from);
  sendJson(
    ctx.res,
    200,
    [...seen].sort().map((n) => ({
      number: n,
      uuid: store.accounts.get(n)?.uuid ?? "",
      name: "",
      profile_name: "",
      username: "",
      color: "",
      blocked: false,
      message_expiration: "0",
      profile: { given_name: "", lastname: "", about: "", has_avatar: false, last_updated_timestamp: 0 },
    })),
  );
}

async function listAccounts(ctx: RouteContext): Promise<void> {
  const accounts = [...signalStore(ctx.state).accounts.values()].filter((a) => a.status === "registered").map((a) => a.number);
  sendJson(ctx.res, 200, accounts);
}

async function about(ctx: RouteContext): Promise<void> {
  sendJson(ctx.res, 200, { versions: ["v1", "v2"], build: 2, mode: "normal", version: "simulated", capabilities: { "v2/send": ["quotes", "mentions"] } });
}

async function inboundControl(ctx: RouteContext): Promise<void> {
  const body = jsonBody(ctx);
  if (typeof body.from !== "string" || typeof body.to !== "string" || typeof body.message !== "string") {
    throw new SimHttpError(400, "body must be JSON {from, to, message}");
  }
  const store = signalStore(ctx.state);
  const to = number(body.to);
  registered(ctx, to);
  deliverEnvelope(store, { from: body.from, fromUuid: crypto.randomUUID(), to, message: body.message, timestamp: timestamp(store) });
  store.receivedFrom.set(to, (store.receivedFrom.get(to) ?? new Set()).add(body.from));
  sendJson(ctx.res, 200, { queued: store.inbox.get(to)?.length ?? 0 });
}

async function dumpStore(ctx: RouteContext): Promise<void> {
  const store = signalStore(ctx.state);
  sendJson(ctx.res, 200, { accounts: [...store.accounts.values()], sent: store.sent });
}

const api = (method: Route["method"], path: RegExp, handle: Route["handle"]): Route => ({ method, path, provider: signalFormat, handle });

export const signalRoutes: Route[] = [
  api("GET", /^\/v1\/about$/, about),
  api("GET", /^\/v1\/accounts$/, listAccounts),
  api("POST", /^\/v1\/register\/([^/]+)$/, register),
  api("POST", /^\/v1\/register\/([^/]+)\/verify\/([^/]+)$/, verify),
  api("POST", /^\/v2\/send$/, send),
  api("GET", /^\/v1\/receive\/([^/]+)$/, receive),
  api("GET", /^\/v1\/contacts\/([^/]+)$/, contacts),
  api("POST", /^\/v1\/unregister\/([^/]+)$/, unregister),
];

export const signalControlRoutes: Route[] = [
  { method: "GET", path: /^\/_sim\/signal$/, provider: controlFormat, handle: dumpStore },
  { method: "POST", path: /^\/_sim\/signal\/inbound$/, provider: controlFormat, handle: inboundControl },
];

// signal-cli-rest-api adapter: register (captcha optional), verify with the SMS code, unregister,
// receive. The identity issue (#10) wires it into provisioning steps (Signal registration
// requested, Signal verified), the keep-alive receive cron and deprovisioning (unregister first,
// then release the number). Base URL from SIGNAL_CLI_URL. Signal's lockouts grow with failed
// tries, so rate limits and captchas come back as outcomes for a person, never as retries.
import { env } from "../../_generated/server";
import { call, describe, ok, RetryableProviderError, trimSlash, type ProviderFailure, type ProviderOutcome, type WireResponse } from "./types";

export interface SignalConfig {
  baseUrl: string;
  fetch?: typeof fetch;
}

export function signalConfigFromEnv(): SignalConfig | null {
  return env.SIGNAL_CLI_URL ? { baseUrl: env.SIGNAL_CLI_URL } : null;
}

function errorText(response: WireResponse): string {
  const error = (response.json as { error?: unknown } | null)?.error;
  return typeof error === "string" ? error : response.text;
}

/** When Signal lets us try again, from `retry-after` or "retry after N seconds" in the text. */
function retryAt(response: WireResponse, text: string, nowMs: number): number | null {
  const header = response.headers.get("retry-after");
  if (header && /^\d+$/.test(header.trim())) return nowMs + Number(header.trim()) * 1000;
  const m = /retry[^\d]{0,20}(\d+)\s*(ms|milliseconds|s|sec|seconds)?/i.exec(text);
  if (!m) return null;
  const n = Number(m[1]);
  return nowMs + (m[2] && /^m/i.test(m[2]) ? n : n * 1000);
}

/** signal-cli's errors (400 `{error: "<text>"}`, matched on the text) as the shared classification. */
export function classifySignal(response: WireResponse, nowMs = Date.now()): ProviderFailure {
  const text = errorText(response);
  const message = describe(response.status, text);
  if (/captcha/i.test(text)) return { kind: "captcha_required", provider: "signal", message };
  if (response.status === 429 || /\[429\]|rate limit|RegistrationRetryException/i.test(text)) {
    return { kind: "rate_limited_until", provider: "signal", until: retryAt(response, text, nowMs), message };
  }
  if (response.status >= 500) throw new RetryableProviderError("signal", message, response.status);
  if (/verification failed|incorrect|invalid (verification )?code/i.test(text)) {
    return { kind: "permanent", provider: "signal", status: response.status, code: "invalid_code", message };
  }
  if (/not registered/i.test(text)) return { kind: "permanent", provider: "signal", status: response.status, code: "not_registered", message };
  return { kind: "permanent", provider: "signal", status: response.status, code: null, message };
}

const url = (config: SignalConfig, path: string) => `${trimSlash(config.baseUrl)}${path}`;
const num = (phone: string) => encodeURIComponent(phone);
const isOk = (status: number) => status >= 200 && status < 300;

/** Asks Signal to text a code to `phone`. A captcha (the `signalcaptcha://` token) when Signal demanded one. */
export async function register(config: SignalConfig, phone: string, options: { captcha?: string; useVoice?: boolean } = {}): Promise<ProviderOutcome<{ requested: true }>> {
  const body: Record<string, unknown> = {};
  if (options.captcha) body.captcha = options.captcha.trim().replace(/^signalcaptcha:\/\//, "");
  if (options.useVoice) body.use_voice = true;
  const res = await call("signal", url(config, `/v1/register/${num(phone)}`), { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body), fetch: config.fetch });
  if (isOk(res.status)) return ok({ requested: true });
  return classifySignal(res);
}

/** Completes registration with the 6-digit code (never logged). */
export async function verify(config: SignalConfig, phone: string, code: string, options: { pin?: string } = {}): Promise<ProviderOutcome<{ verified: true }>> {
  const res = await call("signal", url(config, `/v1/register/${num(phone)}/verify/${encodeURIComponent(code)}`), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: options.pin ? JSON.stringify({ pin: options.pin }) : undefined,
    fetch: config.fetch,
  });
  if (isOk(res.status)) return ok({ verified: true });
  return classifySignal(res);
}

/** Unregisters (before the number is released). Not registered (anymore) counts as done. */
export async function unregister(config: SignalConfig, phone: string): Promise<ProviderOutcome<{ existed: boolean }>> {
  const res = await call("signal", url(config, `/v1/unregister/${num(phone)}`), { method: "POST", fetch: config.fetch });
  if (isOk(res.status)) return ok({ existed: true });
  const failure = classifySignal(res);
  if (failure.kind === "permanent" && failure.code === "not_registered") return ok({ existed: false });
  return failure;
}

export interface SignalMessage {
  source: string;
  timestamp: number;
  message: string;
}

/** Receives queued messages (each handed out once); also what keeps the account active. */
export async function receive(config: SignalConfig, phone: string): Promise<ProviderOutcome<SignalMessage[]>> {
  const res = await call("signal", url(config, `/v1/receive/${num(phone)}`), { method: "GET", fetch: config.fetch });
  if (!isOk(res.status)) return classifySignal(res);
  const list = Array.isArray(res.json) ? (res.json as { envelope?: { sourceNumber?: unknown; source?: unknown; timestamp?: unknown; dataMessage?: { message?: unknown } } }[]) : [];
  const messages: SignalMessage[] = [];
  for (const item of list) {
    const e = item.envelope;
    if (!e || typeof e.dataMessage?.message !== "string") continue;
    messages.push({ source: String(e.sourceNumber ?? e.source ?? ""), timestamp: Number(e.timestamp ?? 0), message: e.dataMessage.message });
  }
  return ok(messages);
}

// ---- For the Dex API: send and contacts ----

/** `POST /v2/send` from `phone` (a registered number) to each recipient; Signal's timestamp of the message. */
export async function send(config: SignalConfig, phone: string, recipients: string[], message: string): Promise<ProviderOutcome<{ timestamp: number }>> {
  const res = await call("signal", url(config, "/v2/send"), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ number: phone, recipients, message }),
    fetch: config.fetch,
  });
  if (!isOk(res.status)) return classifySignal(res);
  const timestamp = Number((res.json as { timestamp?: unknown } | null)?.timestamp ?? 0);
  return ok({ timestamp });
}

export interface SignalContact {
  number: string | null;
  uuid: string | null;
  name: string;
  profileName: string;
}

/** `GET /v1/contacts/{number}`: the account's contacts as signal-cli knows them. */
export async function listContacts(config: SignalConfig, phone: string): Promise<ProviderOutcome<SignalContact[]>> {
  const res = await call("signal", url(config, `/v1/contacts/${num(phone)}`), { method: "GET", fetch: config.fetch });
  if (!isOk(res.status)) return classifySignal(res);
  const list = Array.isArray(res.json) ? (res.json as Record<string, unknown>[]) : [];
  const str = (x: unknown) => (typeof x === "string" && x !== "" ? x : null);
  return ok(
    list.map((c) => {
      const profile = (c.profile ?? {}) as { given_name?: unknown; family_name?: unknown };
      const profileName = [profile.given_name, profile.family_name].filter((p) => typeof p === "string" && p).join(" ");
      return { number: str(c.number), uuid: str(c.uuid), name: typeof c.name === "string" ? c.name : "", profileName: profileName || (typeof c.profile_name === "string" ? c.profile_name : "") };
    }),
  );
}

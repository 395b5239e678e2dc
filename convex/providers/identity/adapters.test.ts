// The identity adapters over real HTTP against the provider simulator: success paths, the
// idempotent lookups and each classified error (the simulator's failure injection).
import { beforeAll, describe, expect, test } from "vitest";
import * as google from "./google";
import * as signal from "./signal";
import * as telnyx from "./telnyx";
import { useAdapterSimulator } from "./simulator.setup";
import { RetryableProviderError } from "./types";

const simulator = useAdapterSimulator();

const fail = (rule: Record<string, unknown>) => simulator().configure({ fail: { count: 1, ...rule } });
const simJson = async <T>(path: string, init?: RequestInit): Promise<T> => (await (await fetch(`${simulator().url}${path}`, init)).json()) as T;

describe("google", () => {
  let config: google.GoogleConfig;
  beforeAll(async () => {
    const key = await simJson<{ client_email: string; private_key: string }>("/_sim/google/service-account", { method: "POST" });
    config = { serviceAccountEmail: key.client_email, privateKey: key.private_key, adminEmail: "admin@dex.test", baseUrl: simulator().url };
  });
  const newUser = (local: string) => ({ primaryEmail: `${local}@dex.test`, givenName: "Dex", familyName: local, password: "s3cret-Pa55word" });

  test("creates, finds, suspends, unsuspends and deletes a user; the Gmail probe passes once it exists", async () => {
    const absent = await google.getUser(config, "dex-a@dex.test");
    expect(absent).toEqual({ kind: "ok", value: null });
    const probeBefore = google.probeMailbox(config, "dex-a@dex.test");
    await expect(probeBefore).rejects.toThrow(/Mail service not enabled/);
    const created = await google.ensureUser(config, newUser("dex-a"));
    expect(created).toMatchObject({ kind: "ok", value: { created: true, user: { primaryEmail: "dex-a@dex.test", suspended: false } } });
    expect(await google.probeMailbox(config, "dex-a@dex.test")).toEqual({ kind: "ok", value: { ready: true } });
    expect(await google.suspendUser(config, "dex-a@dex.test")).toMatchObject({ kind: "ok", value: { suspended: true } });
    expect(await google.unsuspendUser(config, "dex-a@dex.test")).toMatchObject({ kind: "ok", value: { suspended: false } });
    expect(await google.deleteUser(config, "dex-a@dex.test")).toEqual({ kind: "ok", value: { existed: true } });
    expect(await google.deleteUser(config, "dex-a@dex.test")).toEqual({ kind: "ok", value: { existed: false } });
  });

  test("idempotent: a retry finds the user instead of inserting again; a raw insert conflict is `conflict`", async () => {
    await google.ensureUser(config, newUser("dex-b"));
    expect(await google.ensureUser(config, newUser("dex-b"))).toMatchObject({ kind: "ok", value: { created: false } });
    expect(await google.insertUser(config, newUser("dex-b"))).toMatchObject({ kind: "conflict", status: 409 });
    const users = await simJson<{ users: unknown[] }>("/_sim/google");
    expect(users.users).toHaveLength(1);
  });

  test("the password is in no result or error", async () => {
    fail({ status: 400, pathPrefix: "/admin/directory/v1/users", message: "Invalid Password" });
    const result = await google.insertUser(config, newUser("dex-c"));
    expect(JSON.stringify(result)).not.toContain("s3cret");
  });

  test.each([
    ["5xx", { status: 503 }],
    ["429", { status: 429 }],
    ["403 userRateLimitExceeded", { status: 403, code: "userRateLimitExceeded", message: "Rate Limit Exceeded" }],
    ["403 quotaExceeded", { status: 403, code: "quotaExceeded", message: "Quota exceeded" }],
    ["User creation is not complete", { status: 412, code: "conditionNotMet", message: "User creation is not complete." }],
  ])("retryable: %s throws", async (_name, rule) => {
    fail({ pathPrefix: "/admin/directory", ...rule });
    await expect(google.insertUser(config, newUser("dex-d"))).rejects.toBeInstanceOf(RetryableProviderError);
  });

  test("network failure throws retryable", async () => {
    await expect(google.getUser({ ...config, baseUrl: "http://127.0.0.1:9" }, "x@dex.test")).rejects.toBeInstanceOf(RetryableProviderError);
  });

  test("permanent: invalid domain, delegation denied, bad grant", async () => {
    fail({ status: 400, pathPrefix: "/admin/directory", code: "invalid", message: "Domain not found." });
    expect(await google.insertUser(config, newUser("dex-e"))).toMatchObject({ kind: "permanent", status: 400, code: "invalid_domain" });
    fail({ status: 403, pathPrefix: "/gmail", code: "forbidden", message: "Delegation denied for x@dex.test" });
    expect(await google.probeMailbox(config, "x@dex.test")).toMatchObject({ kind: "permanent", status: 403, code: "forbidden" });
    fail({ status: 400, pathPrefix: "/token", code: "unauthorized_client", message: "Client is unauthorized to retrieve access tokens using this method." });
    google.clearGoogleTokenCache();
    expect(await google.getUser(config, "x@dex.test")).toMatchObject({ kind: "permanent", status: 400, code: "unauthorized_client" });
  });
});

describe("telnyx", () => {
  const config = (): telnyx.TelnyxConfig => ({ apiKey: "KEY_test", messagingProfileId: "mp-1", baseUrl: simulator().url });

  test("search, order with customer_reference, assign the profile, release", async () => {
    const numbers = await telnyx.searchNumbers(config(), { limit: 2 });
    expect(numbers).toMatchObject({ kind: "ok" });
    const ordered = await telnyx.ensureNumber(config(), "acct-1");
    expect(ordered).toMatchObject({ kind: "ok", value: { created: true, customerReference: "acct-1", status: "success" } });
    if (ordered.kind !== "ok") return;
    expect(await telnyx.assignMessagingProfile(config(), ordered.value.phoneNumber!)).toEqual({ kind: "ok", value: { messagingProfileId: "mp-1" } });
    expect(await telnyx.findNumberId(config(), ordered.value.phoneNumber!)).toEqual({ kind: "ok", value: ordered.value.phoneNumberId });
    expect(await telnyx.releaseNumber(config(), ordered.value.phoneNumberId!)).toEqual({ kind: "ok", value: { existed: true } });
    expect(await telnyx.releaseNumber(config(), ordered.value.phoneNumberId!)).toEqual({ kind: "ok", value: { existed: false } });
  });

  test("a released number's order no longer counts: the account gets a new number", async () => {
    const first = await telnyx.ensureNumber(config(), "acct-5");
    if (first.kind !== "ok") throw new Error("order failed");
    await telnyx.releaseNumber(config(), first.value.phoneNumberId!);
    const again = await telnyx.ensureNumber(config(), "acct-5");
    expect(again).toMatchObject({ kind: "ok", value: { created: true } });
    if (again.kind === "ok") expect(again.value.phoneNumber).not.toBe(first.value.phoneNumber);
    const dump = await simJson<{ numbers: { messaging_profile_id: string | null; phone_number: string }[] }>("/_sim/telnyx");
    expect(dump.numbers).toHaveLength(2);
  });

  test("the messaging profile lands on the number", async () => {
    const ordered = await telnyx.ensureNumber({ ...config(), messagingProfileId: null }, "acct-6");
    if (ordered.kind !== "ok") throw new Error("order failed");
    await telnyx.assignMessagingProfile(config(), ordered.value.phoneNumber!, "mp-live");
    const dump = await simJson<{ numbers: { messaging_profile_id: string | null; phone_number: string }[] }>("/_sim/telnyx");
    expect(dump.numbers.find((n) => n.phone_number === ordered.value.phoneNumber)?.messaging_profile_id).toBe("mp-live");
  });

  test("idempotent: a retried step finds the order and never orders a second number", async () => {
    const first = await telnyx.ensureNumber(config(), "acct-2");
    const again = await telnyx.ensureNumber(config(), "acct-2");
    expect(again).toMatchObject({ kind: "ok", value: { created: false } });
    if (first.kind === "ok" && again.kind === "ok") expect(again.value.phoneNumber).toBe(first.value.phoneNumber);
    const dump = await simJson<{ orders: unknown[] }>("/_sim/telnyx");
    expect(dump.orders).toHaveLength(1);
  });

  test.each([["5xx", 503], ["429", 429]])("retryable: %s throws", async (_n, status) => {
    fail({ status, pathPrefix: "/v2/number_orders" });
    await expect(telnyx.orderNumber(config(), { phoneNumber: "+12015550100", customerReference: "acct-3" })).rejects.toBeInstanceOf(RetryableProviderError);
  });

  test("retryable: a number taken between search and order (85001)", async () => {
    fail({ status: 422, pathPrefix: "/v2/number_orders", code: "85001", message: "The number is not available." });
    await expect(telnyx.orderNumber(config(), { phoneNumber: "+12015550100", customerReference: "acct-3" })).rejects.toBeInstanceOf(RetryableProviderError);
  });

  test("permanent: bad key (401), invalid number (422), profile on an unknown number (404)", async () => {
    expect(await telnyx.searchNumbers({ ...config(), apiKey: "KEY_invalid" })).toMatchObject({ kind: "permanent", status: 401, code: "10009" });
    expect(await telnyx.orderNumber(config(), { phoneNumber: "+1201", customerReference: "acct-4" })).toMatchObject({ kind: "permanent", status: 422, code: "10015" });
    expect(await telnyx.assignMessagingProfile(config(), "+12015550999")).toMatchObject({ kind: "permanent", status: 404 });
  });
});

describe("signal", () => {
  const config = (): signal.SignalConfig => ({ baseUrl: simulator().url });
  const pendingCode = async (phone: string) =>
    (await simJson<{ accounts: { number: string; code: string }[] }>("/_sim/signal")).accounts.find((a) => a.number === phone)!.code;

  test("register, verify with the code, receive, unregister", async () => {
    const phone = "+12015550177";
    expect(await signal.register(config(), phone)).toEqual({ kind: "ok", value: { requested: true } });
    expect(await signal.verify(config(), phone, await pendingCode(phone))).toEqual({ kind: "ok", value: { verified: true } });
    await fetch(`${simulator().url}/_sim/signal/inbound`, { method: "POST", body: JSON.stringify({ from: "+12025550111", to: phone, message: "hi dex" }) });
    expect(await signal.receive(config(), phone)).toMatchObject({ kind: "ok", value: [{ source: "+12025550111", message: "hi dex" }] });
    expect(await signal.unregister(config(), phone)).toEqual({ kind: "ok", value: { existed: true } });
    expect(await signal.unregister(config(), phone)).toEqual({ kind: "ok", value: { existed: false } });
  });

  test("captcha: required without one, accepted with a signalcaptcha:// token", async () => {
    simulator().configure({ signal: { requireCaptcha: true } });
    expect(await signal.register(config(), "+12015550178")).toMatchObject({ kind: "captcha_required" });
    expect(await signal.register(config(), "+12015550178", { captcha: "signalcaptcha://signal-hcaptcha.abc" })).toMatchObject({ kind: "ok" });
  });

  test("rate limited: [429] with a retry time, never thrown", async () => {
    fail({ status: 400, pathPrefix: "/v1/register", message: "[429] Rate limit exceeded: RegistrationRetryException, retry after 3600 seconds" });
    const before = Date.now();
    const result = await signal.register(config(), "+12015550179");
    expect(result).toMatchObject({ kind: "rate_limited_until" });
    if (result.kind === "rate_limited_until") expect(result.until).toBeGreaterThanOrEqual(before + 3_600_000);
  });

  test("permanent: wrong code; retryable: 5xx", async () => {
    await signal.register(config(), "+12015550180");
    expect(await signal.verify(config(), "+12015550180", "000000x")).toMatchObject({ kind: "permanent", code: "invalid_code" });
    fail({ status: 503, pathPrefix: "/v1/receive" });
    await expect(signal.receive(config(), "+12015550180")).rejects.toBeInstanceOf(RetryableProviderError);
  });
});

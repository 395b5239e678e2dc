import { describe, expect, test } from "vitest";
import { extractSignalCode, verifyTelnyxSignature } from "./telnyxSignature";

const b64 = (bytes: ArrayBuffer | Uint8Array) => btoa(String.fromCharCode(...new Uint8Array(bytes)));

async function keyPair() {
  const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as CryptoKeyPair;
  const publicKey = b64(await crypto.subtle.exportKey("raw", pair.publicKey));
  const sign = async (timestamp: string, body: string) =>
    b64(await crypto.subtle.sign({ name: "Ed25519" }, pair.privateKey, new TextEncoder().encode(`${timestamp}|${body}`)));
  return { publicKey, sign };
}

describe("verifyTelnyxSignature", () => {
  const body = '{"data":{"event_type":"message.received","payload":{"text":"Your Signal code: 123456"}}}';
  const now = 1_760_000_000_000;
  const ts = String(now / 1000);

  test("accepts a valid signature over the raw body", async () => {
    const k = await keyPair();
    expect(await verifyTelnyxSignature({ rawBody: body, signature: await k.sign(ts, body), timestamp: ts, publicKey: k.publicKey, nowMs: now })).toEqual({ ok: true, timestamp: now / 1000 });
    // within tolerance either way
    expect((await verifyTelnyxSignature({ rawBody: body, signature: await k.sign(ts, body), timestamp: ts, publicKey: k.publicKey, nowMs: now + 299_000 })).ok).toBe(true);
  });

  test("rejects a tampered body, timestamp, signature or another key", async () => {
    const k = await keyPair();
    const other = await keyPair();
    const sig = await k.sign(ts, body);
    const check = (o: Partial<Parameters<typeof verifyTelnyxSignature>[0]>) =>
      verifyTelnyxSignature({ rawBody: body, signature: sig, timestamp: ts, publicKey: k.publicKey, nowMs: now, ...o });
    expect(await check({ rawBody: body.replace("123456", "654321") })).toEqual({ ok: false, reason: "bad_signature" });
    expect(await check({ rawBody: JSON.stringify(JSON.parse(body), null, 1) })).toEqual({ ok: false, reason: "bad_signature" });
    expect(await check({ timestamp: String(now / 1000 + 1) })).toEqual({ ok: false, reason: "bad_signature" });
    expect(await check({ publicKey: other.publicKey })).toEqual({ ok: false, reason: "bad_signature" });
    expect(await check({ signature: b64(new Uint8Array(64)) })).toEqual({ ok: false, reason: "bad_signature" });
    expect(await check({ signature: "not base64!" })).toEqual({ ok: false, reason: "bad_signature" });
    expect(await check({ publicKey: "AAAA" })).toEqual({ ok: false, reason: "bad_key" });
    expect(await check({ signature: null })).toEqual({ ok: false, reason: "missing_headers" });
    expect(await check({ timestamp: "soon" })).toEqual({ ok: false, reason: "bad_timestamp" });
  });

  test("rejects stale and future timestamps beyond 5 minutes", async () => {
    const k = await keyPair();
    expect(await verifyTelnyxSignature({ rawBody: body, signature: await k.sign(ts, body), timestamp: ts, publicKey: k.publicKey, nowMs: now + 301_000 })).toEqual({ ok: false, reason: "stale" });
    expect(await verifyTelnyxSignature({ rawBody: body, signature: await k.sign(ts, body), timestamp: ts, publicKey: k.publicKey, nowMs: now - 301_000 })).toEqual({ ok: false, reason: "stale" });
  });

  test("accepts raw bytes as well as text", async () => {
    const k = await keyPair();
    const bytes = new TextEncoder().encode(body);
    expect((await verifyTelnyxSignature({ rawBody: bytes, signature: await k.sign(ts, body), timestamp: ts, publicKey: k.publicKey, nowMs: now })).ok).toBe(true);
  });
});

describe("extractSignalCode", () => {
  test.each([
    ["Your Signal code: 123456\nDo not share this code", "123456"],
    ["Your Signal verification code: 123-456", "123456"],
    ["SIGNAL: Your code is 987 654 Don't share", "987654"],
    ["Hello, no code here", null],
    ["Call 1234567 now", null],
    ["code 12345", null],
  ])("%j -> %j", (text, code) => {
    expect(extractSignalCode(text)).toBe(code);
  });
});

// The functions' crypto answers exactly what Node's Web Crypto answers.
import { webcrypto } from "node:crypto";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { functionsCrypto } from "./vmCrypto.ts";

const hex = (b: ArrayBuffer) => Buffer.from(b).toString("hex");

describe("functionsCrypto", () => {
  const crypto = functionsCrypto();
  const text = new TextEncoder().encode("pk_live_0123456789abcdefghijklmnopqrstuvwxyz");

  it("digests like Node's subtle.digest, for every SHA, name spelling and byte view", async () => {
    const views: unknown[] = [
      text,
      text.buffer.slice(0),
      new DataView(text.buffer, 3, 20),
      new Uint16Array(text.buffer.slice(0, 40)),
      // An ArrayBuffer of another realm, as the functions' own are (Node's digest refuses those,
      // Convex's does not; compared below with the same bytes in this realm).
      runInNewContext("new Uint8Array([1, 2, 3, 250]).buffer"),
      new Uint8Array(0),
    ];
    for (const algorithm of ["SHA-1", "SHA-256", "sha-384", { name: "SHA-512" }, "Sha-256"]) {
      for (const data of views) {
        const got = await crypto.subtle.digest(algorithm as AlgorithmIdentifier, data as BufferSource);
        const hostData = Object.prototype.toString.call(data) === "[object ArrayBuffer]" ? new Uint8Array(data as ArrayBuffer).slice() : data;
        const want = await webcrypto.subtle.digest(algorithm as AlgorithmIdentifier, hostData as BufferSource);
        expect(Object.prototype.toString.call(got)).toBe("[object ArrayBuffer]");
        expect(hex(got)).toBe(hex(want));
      }
    }
  });

  it("hands anything else to Node's implementation, errors included", async () => {
    const reason = (p: Promise<unknown>) => p.then(() => null, (e: Error) => `${e.name}: ${e.message}`);
    for (const [algorithm, data] of [["MD5", text], ["SHA-256", "text"], [{ hash: "SHA-256" }, text]] as const) {
      const got = await reason(crypto.subtle.digest(algorithm as AlgorithmIdentifier, data as BufferSource));
      expect(got).not.toBeNull();
      expect(got).toBe(await reason(webcrypto.subtle.digest(algorithm as AlgorithmIdentifier, data as BufferSource)));
    }
  });

  it("keeps the rest of Web Crypto working", async () => {
    const key = await crypto.subtle.importKey("raw", new Uint8Array(32), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
    const mac = await crypto.subtle.sign("HMAC", key, text);
    expect(await crypto.subtle.verify("HMAC", key, mac, text)).toBe(true);
    const aes = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, true, ["encrypt", "decrypt"]);
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const sealed = await crypto.subtle.encrypt({ name: "AES-GCM", iv }, aes, text);
    expect(new Uint8Array(await crypto.subtle.decrypt({ name: "AES-GCM", iv }, aes, sealed))).toEqual(text);
    expect(crypto.randomUUID()).toMatch(/^[0-9a-f-]{36}$/);
    expect(crypto.subtle).toBeInstanceOf(webcrypto.subtle.constructor);
  });

  it("fills integer arrays of any realm with random bytes, never the same ones twice, and refuses what Node refuses", () => {
    const seen = new Set<string>();
    // Past several refills of the pool: every 48-byte draw differs (a repeat would mean reused bytes).
    for (let i = 0; i < 400; i++) {
      const bytes = crypto.getRandomValues(new Uint8Array(48));
      const key = Buffer.from(bytes).toString("hex");
      expect(seen.has(key)).toBe(false);
      seen.add(key);
    }
    const foreign = runInNewContext("new Uint32Array(8)") as Uint32Array;
    expect(crypto.getRandomValues(foreign)).toBe(foreign);
    expect([...foreign].some((x) => x !== 0)).toBe(true);
    const offset = new Uint8Array(new ArrayBuffer(32), 8, 8);
    crypto.getRandomValues(offset);
    expect([...new Uint8Array(offset.buffer, 0, 8)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    const large = crypto.getRandomValues(new Uint8Array(65_536));
    expect(large.some((x) => x !== 0)).toBe(true);
    const refusal = (f: () => unknown) => { try { f(); return null; } catch (e) { return `${(e as Error).name}: ${(e as Error).message}`; } };
    for (const bad of [new Float64Array(4), new DataView(new ArrayBuffer(4)), new Uint8Array(65_537), "text", null]) {
      const got = refusal(() => crypto.getRandomValues(bad as never));
      expect(got).not.toBeNull();
      expect(got).toBe(refusal(() => webcrypto.getRandomValues(bad as never)));
    }
  });
});

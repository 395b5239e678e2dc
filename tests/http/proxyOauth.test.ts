// The proxy with an OAuth access token through the real `openai` SDK on the test backend, the
// provider simulator as upstream: the usage event names the grant's instance (not a header the
// instance could set to anything), and a key's request still names its key and its header.
import { describe, expect, it, vi } from "vitest";
import { chatUsage } from "../../dev/simulator/tokens";
import type { Id } from "../../convex/_generated/dataModel";
import { newSecret, secretHash } from "../../convex/model/oauth/secrets";
import { createGrant, issuePair } from "../../convex/oauth/store";
import { account, clientFor, eventsOf, useUpstream, type TestConvex } from "./harness";

let t: TestConvex;

useUpstream({ t: (x) => (t = x) }, () => {
  vi.stubEnv("ENCRYPTION_KEY", "cHJveHktb2F1dGgtdGVzdC1lbmNyeXB0aW9uLWtleSE=");
});

const messages = [{ role: "user" as const, content: "Which instance am I?" }];

/** The access token an instance holds after connecting with `scopes`. */
async function accessToken(userId: Id<"users">, instanceId: string, scopes: ("ai" | "usage" | "email")[] = ["ai"]) {
  const access = newSecret("access");
  const hashes = { accessHash: await secretHash(access, process.env.ENCRYPTION_KEY), refreshHash: await secretHash(newSecret("refresh"), process.env.ENCRYPTION_KEY) };
  await t.run(async (ctx) => {
    const grantId = await createGrant(ctx, userId, instanceId, scopes, "device", Date.now());
    await issuePair(ctx, { _id: grantId, userId }, scopes, hashes, Date.now());
  });
  return access;
}

describe("usage events of token requests", () => {
  it("name the grant's instance, whatever x-dex-instance says, and no key", async () => {
    const a = await account(t, "instance@example.com");
    const token = await accessToken(a.userId, "dex-realone1");
    const reply = await clientFor(t, token, { defaultHeaders: { "x-dex-instance": "dex-pretender" } })
      .chat.completions.create({ model: "gpt-4o-mini", messages });
    expect(reply.usage).toEqual(chatUsage({ model: "gpt-4o-mini", messages }));

    await clientFor(t, a.secret, { defaultHeaders: { "x-dex-instance": "dex-keyed01" } }).chat.completions.create({ model: "gpt-4o-mini", messages });
    const events = await eventsOf(t, a.userId);
    expect(events).toHaveLength(2);
    const byToken = events.find((e) => e.instanceId === "dex-realone1");
    expect(byToken).toMatchObject({ status: "ok", tokensIn: reply.usage!.prompt_tokens, tokensOut: reply.usage!.completion_tokens });
    expect(byToken?.apiKeyId).toBeUndefined();
    expect(events.find((e) => e.instanceId === "dex-keyed01")).toMatchObject({ apiKeyId: a.keyId });
    expect(events.some((e) => e.instanceId === "dex-pretender")).toBe(false);
  });

  it("embeddings and speech take the token too", async () => {
    const a = await account(t, "kinds@example.com", { plan: "basic", state: "active" });
    const client = clientFor(t, await accessToken(a.userId, "dex-kinds001"));
    const embedded = await client.embeddings.create({ model: "text-embedding-3-small", input: "hello" });
    expect(embedded.data).toHaveLength(1);
    const speech = await client.audio.speech.create({ model: "tts-1", voice: "alloy", input: "Hi there." });
    expect((await speech.arrayBuffer()).byteLength).toBeGreaterThan(0);
    const events = await eventsOf(t, a.userId);
    expect(events.map((e) => [e.kind, e.instanceId])).toEqual(expect.arrayContaining([["embedding", "dex-kinds001"], ["speech", "dex-kinds001"]]));
  });
});

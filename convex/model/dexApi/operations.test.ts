import { describe, expect, test } from "vitest";
import { PLAN_IDS } from "../plans";
import { DEX_API_LIMITS } from "./limits";
import { allows, DEX_USAGE_KINDS, OPERATIONS, SCOPES } from "./operations";
import { splitOperations } from "./usage";

describe("the operation table", () => {
  test("one operation per method and path, unique ids", () => {
    expect(new Set(OPERATIONS.map((o) => o.id)).size).toBe(OPERATIONS.length);
    expect(new Set(OPERATIONS.map((o) => `${o.method} ${o.path}`)).size).toBe(OPERATIONS.length);
  });

  test("every write that reaches a provider is rate limited and recorded; reads are not recorded", () => {
    for (const o of OPERATIONS.filter((x) => x.needs !== null && x.method !== "GET")) {
      expect(o.limit, o.id).not.toBeNull();
      expect(o.usage, o.id).not.toBeNull();
    }
    for (const o of OPERATIONS.filter((x) => x.method === "GET")) expect(o.usage, o.id).toBeNull();
    expect(new Set(OPERATIONS.map((o) => o.usage).filter(Boolean))).toEqual(new Set(DEX_USAGE_KINDS));
  });

  test("allows: an API key has every scope; a token only its own; key-only operations refuse tokens", () => {
    const key = { via: "api_key" as const, scopes: SCOPES };
    const token = { via: "oauth" as const, scopes: ["email" as const] };
    expect(allows({ scope: "calendar" }, key)).toBe(true);
    expect(allows({ scope: "email" }, token)).toBe(true);
    expect(allows({ scope: "calendar" }, token)).toBe(false);
    expect(allows("api_key", key)).toBe(true);
    expect(allows("api_key", { via: "oauth", scopes: SCOPES })).toBe(false);
    expect(allows("none", token)).toBe(true);
  });
});

test("limits: every plan has every group; a higher plan never gets less", () => {
  const groups = Object.keys(DEX_API_LIMITS.basic);
  for (const plan of PLAN_IDS) expect(Object.keys(DEX_API_LIMITS[plan]).sort()).toEqual([...groups].sort());
  for (const g of groups as (keyof typeof DEX_API_LIMITS.basic)[]) {
    expect(DEX_API_LIMITS.pro[g].rate).toBeGreaterThanOrEqual(DEX_API_LIMITS.basic[g].rate);
    expect(DEX_API_LIMITS.basic[g].rate).toBeGreaterThanOrEqual(DEX_API_LIMITS.trial[g].rate);
  }
});

test("splitOperations: dex:<kind> rows become counts, AI models stay", () => {
  const rows = [
    { model: "gpt-4o-mini", requests: 3 },
    { model: "dex:email_sent", requests: 2 },
    { model: "dex:calendar_write", requests: 5 },
  ];
  expect(splitOperations(rows)).toEqual({
    models: [{ model: "gpt-4o-mini", requests: 3 }],
    operations: { email_sent: 2, email_deleted: 0, signal_sent: 0, calendar_write: 5 },
  });
});

// Walks the whole public API (every module under convex/) and proves the access rules
// for each function, including functions added after this test was written:
//  - every public query/mutation/action is built with a builder from convex/functions.ts;
//  - called without a token, it fails with UNAUTHENTICATED;
//  - support/admin functions refuse a signed-in customer with FORBIDDEN;
//  - a customer who passes another customer's document ids gets an error, never their data.
import { describe, expect, test } from "vitest";
import type { GenericId } from "convex/values";
import { ACCESS_LEVEL, type AccessLevel } from "./functions";
import { customer, errorCodeOf, newTest, signIn, type TestConvex, usageEvent } from "./test.setup";

type AnyFn = {
  isPublic?: boolean;
  isQuery?: boolean;
  isMutation?: boolean;
  isAction?: boolean;
  exportArgs?: () => string;
  exportReturns?: () => string;
  [ACCESS_LEVEL]?: AccessLevel;
};

const loaded = import.meta.glob(
  ["./**/*.ts", "!./**/*.*.ts", "!./_generated/**"],
  { eager: true },
) as Record<string, Record<string, unknown>>;

interface PublicFn {
  path: string; // "apiKeys:create"
  kind: "query" | "mutation" | "action";
  level: AccessLevel | undefined;
  args: ValidatorJson;
}

type ValidatorJson = { type: string; value?: unknown; tableName?: string; keys?: unknown; values?: unknown };

const publicFns: PublicFn[] = [];
/** Every query, mutation and action, public or internal, with whether it declares `returns`. */
const allFns: Array<{ path: string; declaresReturns: boolean }> = [];
for (const [file, mod] of Object.entries(loaded)) {
  const modulePath = file.replace(/^\.\//, "").replace(/\.ts$/, "");
  for (const [name, value] of Object.entries(mod)) {
    const fn = value as AnyFn;
    if (typeof value !== "function" && typeof value !== "object") continue;
    if (!fn || typeof fn.exportArgs !== "function" || typeof fn.exportReturns !== "function") continue;
    allFns.push({ path: `${modulePath}:${name}`, declaresReturns: JSON.parse(fn.exportReturns()) !== null });
    if (!fn.isPublic) continue;
    publicFns.push({
      path: `${modulePath}:${name}`,
      kind: fn.isQuery ? "query" : fn.isMutation ? "mutation" : "action",
      level: fn[ACCESS_LEVEL],
      args: JSON.parse(fn.exportArgs()) as ValidatorJson,
    });
  }
}

/** Documents owned by "victim", one per table a public function may take an id of. */
async function seedVictim(t: TestConvex) {
  const { userId, keyId } = await customer(t, "trial", "victim@example.com");
  const alertId = await t.run(async (ctx) =>
    ctx.db.insert("alerts", { userId, kind: "quota_80", severity: "warning", message: "80% used", at: Date.now() }),
  );
  const usageEventId = await usageEvent(t, userId, { apiKeyId: keyId });
  const ids: Record<string, GenericId<string>> = { users: userId, apiKeys: keyId, alerts: alertId, usageEvents: usageEventId };
  ids.providerCredentials = await t.run(async (ctx) =>
    ctx.db.insert("providerCredentials", {
      userId, provider: "openai", lookupId: "victimLookup0000", tokenHash: "0".repeat(64), salt: "s", scopes: ["chat"],
      issuedAt: Date.now(), expiresAt: Date.now() + 60_000, status: "active",
    }),
  );
  // Ops alerts and key suspensions (ops/alerts.ts, ops/anomalies.ts): staff-only, about the victim.
  ids.opsAlerts = await t.run(async (ctx) =>
    ctx.db.insert("opsAlerts", {
      rule: "payment_failed", severity: "warning", subject: userId, userId, message: "An invoice payment failed.",
      firstSeenAt: Date.now(), lastSeenAt: Date.now(), count: 1, status: "open", at: Date.now(),
    }),
  );
  ids.keySuspensions = await t.run(async (ctx) =>
    ctx.db.insert("keySuspensions", { apiKeyId: keyId, userId, rule: "key_many_ips", reason: "Suspended.", suspendedAt: Date.now() }),
  );
  // The ops console (admin/): a paid invoice of the victim's (refunds), a mail of theirs
  // (retry), and an admin API key (admin-only revoke).
  ids.invoices = await t.run(async (ctx) =>
    ctx.db.insert("invoices", {
      userId, provider: "stripe", providerInvoiceId: "in_victim", amountMicros: 50_000_000, currency: "usd", status: "paid",
      createdAt: Date.now(), providerUpdatedAt: Date.now(),
    }),
  );
  ids.emailOutbox = await t.run(async (ctx) =>
    ctx.db.insert("emailOutbox", {
      userId, to: "victim@example.com", template: "welcome", category: "transactional", dedupeKey: `${userId}:welcome`,
      status: "failed", sendAfter: Date.now(), queuedAt: Date.now(),
    }),
  );
  ids.adminApiKeys = await t.run(async (ctx) =>
    ctx.db.insert("adminApiKeys", { name: "victim", prefix: "pdx_admin_victim", hash: "0".repeat(64), createdAt: Date.now(), createdById: userId, createdByLabel: "victim@example.com" }),
  );
  // Account deletion (privacy/): a request for the victim's account (support re-runs its steps).
  ids.deletionRequests = await t.run(async (ctx) =>
    ctx.db.insert("deletionRequests", { userId, requestedAt: Date.now(), source: "user", status: "requested" }),
  );
  return ids;
}

/** A valid argument value for a validator, using the victim's ids for v.id(). */
function sample(v: ValidatorJson, ids: Record<string, string>, where: string): unknown {
  switch (v.type) {
    case "string":
      return "2026-11";
    case "number":
      return 1;
    case "bigint":
      return 1n;
    case "boolean":
      return true;
    case "null":
      return null;
    case "any":
      return {};
    case "bytes":
      return new ArrayBuffer(1);
    case "literal":
      return v.value;
    case "id": {
      const id = ids[v.tableName!];
      if (!id) {
        throw new Error(
          `${where} takes an id of "${v.tableName}": add a victim-owned ${v.tableName} document to seedVictim() in convex/access.test.ts.`,
        );
      }
      return id;
    }
    case "array":
      return [sample(v.value as ValidatorJson, ids, where)];
    case "union":
      return sample((v.value as ValidatorJson[])[0], ids, where);
    case "record":
      return {};
    case "object": {
      const out: Record<string, unknown> = {};
      for (const [k, field] of Object.entries(v.value as Record<string, { fieldType: ValidatorJson; optional: boolean }>)) {
        if (!field.optional) out[k] = sample(field.fieldType, ids, `${where}.${k}`);
      }
      return out;
    }
    default:
      throw new Error(`${where}: unknown validator type ${v.type}`);
  }
}

function takesIds(v: ValidatorJson): boolean {
  return JSON.stringify(v).includes('"type":"id"');
}

async function call(t: { query: any; mutation: any; action: any }, fn: PublicFn, args: unknown) {
  const ref = makeRef(fn.path);
  if (fn.kind === "query") return await t.query(ref, args);
  if (fn.kind === "mutation") return await t.mutation(ref, args);
  return await t.action(ref, args);
}

// convex-test resolves a function from its "module:name" path string.
function makeRef(path: string) {
  return path as never;
}

describe("the public API", () => {
  test("the walk finds the known functions", () => {
    const paths = publicFns.map((f) => f.path);
    expect(paths).toContain("users/viewer:get");
    expect(paths).toContain("admin/accounts:overrideAccountPlan");
  });

  test("every function, public or internal, declares what it returns", () => {
    expect(allFns.length).toBeGreaterThan(publicFns.length);
    expect(allFns.filter((f) => !f.declaresReturns).map((f) => f.path)).toEqual([]);
  });

  test("every public function is built with an access builder from convex/functions.ts", () => {
    const untagged = publicFns.filter((f) => f.level === undefined).map((f) => f.path);
    expect(untagged).toEqual([]);
  });

  test("the support console (convex/admin/) is support-only", () => {
    const consoleFns = publicFns.filter((f) => f.path.startsWith("admin/"));
    expect(consoleFns.length).toBeGreaterThan(0);
    for (const f of consoleFns) expect([f.path, f.level]).toEqual([f.path, expect.stringMatching(/^(support|admin)$/)]);
  });

  for (const fn of publicFns) {
    test(`${fn.path} refuses a caller who is not signed in`, async () => {
      const t = newTest();
      const ids = await seedVictim(t);
      expect(await errorCodeOf(call(t, fn, sample(fn.args, ids, fn.path)))).toBe("UNAUTHENTICATED");
    });

    if (fn.level === "support" || fn.level === "admin") {
      test(`${fn.path} refuses a customer (needs ${fn.level})`, async () => {
        const t = newTest();
        const ids = await seedVictim(t);
        const { as } = await signIn(t, "customer@example.com");
        expect(await errorCodeOf(call(as, fn, sample(fn.args, ids, fn.path)))).toBe("FORBIDDEN");
      });
    }

    if (fn.level === "admin") {
      test(`${fn.path} refuses a support agent (needs admin)`, async () => {
        const t = newTest();
        const ids = await seedVictim(t);
        const { as } = await signIn(t, "agent@example.com", "support");
        expect(await errorCodeOf(call(as, fn, sample(fn.args, ids, fn.path)))).toBe("FORBIDDEN");
      });
    }

    if (fn.level === "user" && takesIds(fn.args)) {
      test(`${fn.path} will not act on another customer's documents`, async () => {
        const t = newTest();
        const ids = await seedVictim(t);
        const { as } = await signIn(t, "attacker@example.com");
        const code = await errorCodeOf(call(as, fn, sample(fn.args, ids, fn.path)));
        expect(["NOT_FOUND", "FORBIDDEN"]).toContain(code);
      });
    }
  }
});

import { describe, expect, test } from "vitest";
import {
  completeStep,
  confirmationMatches,
  currentStep,
  failStep,
  IllegalStepError,
  isStale,
  MAX_STEP_ATTEMPTS,
  newSteps,
  requestStatus,
  retryDelayMs,
  retryStep,
  STALE_RUNNING_MS,
  startStep,
  STEP_NAMES,
} from "./deletion";
import { DELETED_LABEL, ERASE_PLAN, planFor, scrubAudit, type Subject, uncoveredTables } from "./erasePlan";

describe("deletion state machine", () => {
  test("runs the steps in order and ends done", () => {
    let steps = newSteps();
    expect(requestStatus(steps)).toBe("requested");
    for (const name of STEP_NAMES) {
      expect(currentStep(steps)?.name).toBe(name);
      steps = startStep(steps, name, 1);
      expect(requestStatus(steps)).toBe("in_progress");
      steps = completeStep(steps, name, 2, `${name} ok`);
    }
    expect(currentStep(steps)).toBeNull();
    expect(requestStatus(steps)).toBe("done");
  });

  test("refuses to work on a step out of order", () => {
    expect(() => startStep(newSteps(), "erase", 1)).toThrow(IllegalStepError);
    expect(() => completeStep(newSteps(), "finalize", 1)).toThrow(IllegalStepError);
  });

  test("a failing step retries with doubling backoff, then fails for support to re-run", () => {
    let steps = newSteps();
    let retryAt: number | null = null;
    for (let attempt = 1; attempt <= MAX_STEP_ATTEMPTS; attempt++) {
      steps = startStep(steps, "block_access", 1000);
      ({ steps, retryAt } = failStep(steps, "block_access", 1000, "boom"));
      if (attempt < MAX_STEP_ATTEMPTS) expect(retryAt).toBe(1000 + retryDelayMs(attempt));
    }
    expect(retryAt).toBeNull();
    expect(steps[0]).toMatchObject({ status: "failed", attempts: MAX_STEP_ATTEMPTS, lastError: "boom" });
    expect(() => startStep(steps, "block_access", 1)).toThrow(IllegalStepError);
    steps = retryStep(steps, "block_access");
    expect(steps[0]).toMatchObject({ status: "pending", attempts: 0 });
    expect(() => retryStep(steps, "block_access")).toThrow(IllegalStepError);
    expect(retryDelayMs(1)).toBe(30_000);
    expect(retryDelayMs(20)).toBe(60 * 60_000);
  });

  test("a running step with no progress for STALE_RUNNING_MS is stale", () => {
    const running = startStep(newSteps(), "block_access", 0)[0];
    expect(isStale(running, 0, STALE_RUNNING_MS)).toBe(false);
    expect(isStale(running, 0, STALE_RUNNING_MS + 1)).toBe(true);
    expect(isStale(newSteps()[0], 0, STALE_RUNNING_MS * 10)).toBe(false);
  });

  test("the typed confirmation must be the account's email (case and spaces aside)", () => {
    expect(confirmationMatches(" Ada@Example.com ", "ada@example.com")).toBe(true);
    expect(confirmationMatches("ada@example.co", "ada@example.com")).toBe(false);
    expect(confirmationMatches("", "")).toBe(false);
  });
});

const subject: Subject = {
  requestId: "req1",
  userId: "user123",
  clerkUserId: "user_clerk_9",
  email: "ada@example.com",
  mailbox: "ada@example.com",
  name: "Ada Lovelace",
  phones: ["+15550001111"],
  workspaceEmails: ["dex-ab12@dex.test"],
  identityIds: [],
  apiKeyIds: [],
  grantIds: [],
};

describe("audit scrubbing", () => {
  test("keeps the action under the tombstone and drops every string that names the person", () => {
    const clean = scrubAudit(
      {
        actorId: "user123",
        actorLabel: "ada@example.com",
        targetType: "user",
        targetId: "user123",
        reason: "asked by Ada Lovelace",
        metadata: { userId: "user123", from: "ada@example.com", phone: "+15550001111", plan: "pro", tokens: 5 },
      },
      subject,
      "tomb1",
    );
    expect(clean).toEqual({
      actorId: "tomb1",
      actorLabel: DELETED_LABEL,
      targetType: "user",
      targetId: "tomb1",
      reason: undefined,
      metadata: { userId: "tomb1", plan: "pro", tokens: 5 },
    });
    // Idempotent: a second pass changes nothing.
    expect(scrubAudit(clean, subject, "tomb1")).toEqual(clean);
  });

  test("a Clerk-user target and a support actor", () => {
    const clean = scrubAudit({ actorLabel: "support@poindexter.test", targetType: "clerkUser", targetId: "user_clerk_9", reason: "ticket 42" }, subject, "tomb1");
    expect(clean).toMatchObject({ actorLabel: "support@poindexter.test", targetType: "user", targetId: "tomb1", reason: "ticket 42" });
  });
});

describe("erase plan", () => {
  test("covers tables added later through a userId or apiKeyId index, per-key rows before the keys", () => {
    const schema = {
      users: [{ name: "by_email", fields: ["email"] }],
      apiKeys: [{ name: "by_userId", fields: ["userId"] }],
      sessionTokens: [{ name: "by_lookupId", fields: ["lookupId"] }, { name: "by_userId", fields: ["userId"] }],
      keyCounters: [{ name: "by_apiKeyId_and_hour", fields: ["apiKeyId", "hour"] }],
      globalThing: [{ name: "by_name", fields: ["name"] }],
    };
    const plan = planFor(schema);
    expect(plan.map((e) => e.table)).toEqual(["keyCounters", "apiKeys", "sessionTokens"]);
    expect(plan.find((e) => e.table === "sessionTokens")).toMatchObject({ index: "by_userId", action: "delete" });
    expect(uncoveredTables(schema)).toEqual(["globalThing"]);
  });

  test("drops entries whose index is not in the schema", () => {
    const plan = planFor({ invoices: [{ name: "by_other", fields: ["userId", "other"] }] });
    expect(plan).toEqual([{ table: "invoices", index: "by_other", field: "userId", key: "userId", action: "delete" }]);
    expect(ERASE_PLAN.some((e) => e.table === "invoices" && e.action === "rekeyInvoice")).toBe(true);
  });
});

import { describe, expect, test } from "vitest";
import { UsageError, adminKey, parseCommand } from "./cli";

describe("admin CLI arguments", () => {
  test("parses each command", () => {
    expect(parseCommand(["accounts", "create", "--email", "a@b.co", "--plan", "pro"])).toEqual({
      kind: "accounts.create",
      email: "a@b.co",
      plan: "pro",
      role: undefined,
    });
    expect(parseCommand(["accounts", "show", "--email", "a@b.co", "--json"])).toMatchObject({ json: true });
    expect(parseCommand(["accounts", "set-plan", "--email", "a@b.co", "--plan", "basic", "--reason", "comp"])).toEqual({
      kind: "accounts.set-plan",
      email: "a@b.co",
      plan: "basic",
      reason: "comp",
    });
    expect(parseCommand(["keys", "create", "--email", "a@b.co", "--name", "laptop"])).toEqual({
      kind: "keys.create",
      email: "a@b.co",
      name: "laptop",
    });
    expect(parseCommand([])).toEqual({ kind: "help" });
  });

  test("refuses bad input with a message that says what to fix", () => {
    expect(() => parseCommand(["accounts", "set-plan", "--email", "a@b.co", "--plan", "gold", "--reason", "x"])).toThrow(
      '--plan must be one of trial, basic, pro (got "gold").',
    );
    expect(() => parseCommand(["accounts", "set-plan", "--email", "a@b.co", "--plan", "basic"])).toThrow(
      "--reason is required.",
    );
    expect(() => parseCommand(["accounts", "delete", "--email", "a@b.co"])).toThrow(UsageError);
    expect(() => parseCommand(["accounts", "show", "--emial", "a@b.co"])).toThrow(/emial/);
  });

  test("the admin key comes from env first, then the offline data dir", () => {
    expect(adminKey({ CONVEX_ADMIN_KEY: "k1" })).toBe("k1");
    expect(() => adminKey({ CONVEX_DATA_DIR: "/nonexistent-dir" })).toThrow(/No admin key/);
  });
});

describe("identity commands", () => {
  test("parse with the step and reason they need", () => {
    expect(parseCommand(["identity", "show", "--email", "a@b.co"])).toEqual({ kind: "identity.show", email: "a@b.co", json: false });
    expect(parseCommand(["identity", "rerun", "--email", "a@b.co", "--step", "number_order", "--reason", "Telnyx fixed"])).toEqual({
      kind: "identity.rerun",
      email: "a@b.co",
      step: "number_order",
      reason: "Telnyx fixed",
    });
    expect(parseCommand(["identity", "provision", "--email", "a@b.co", "--reason", "import"])).toEqual({ kind: "identity.provision", email: "a@b.co", reason: "import" });
    expect(parseCommand(["identity", "deprovision", "--email", "a@b.co", "--reason", "abuse"])).toEqual({ kind: "identity.deprovision", email: "a@b.co", reason: "abuse" });
  });

  test("refuse an unknown step and a missing reason", () => {
    expect(() => parseCommand(["identity", "rerun", "--email", "a@b.co", "--step", "sms", "--reason", "x"])).toThrow(/--step must be one of workspace_user/);
    expect(() => parseCommand(["identity", "deprovision", "--email", "a@b.co"])).toThrow("--reason is required.");
  });
});

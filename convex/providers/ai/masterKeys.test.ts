// keyringOf parses a provider's key settings once per distinct value: a changed setting shows at once.
import { afterEach, describe, expect, it } from "vitest";
import { hasSeveralKeys, keyFor, keyringOf } from "./masterKeys";

const saved = { keys: process.env.ANTHROPIC_API_KEYS, key: process.env.ANTHROPIC_API_KEY, active: process.env.ANTHROPIC_ACTIVE_KEY_ID };

function set(name: string, value: string | undefined) {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

afterEach(() => {
  set("ANTHROPIC_API_KEYS", saved.keys);
  set("ANTHROPIC_API_KEY", saved.key);
  set("ANTHROPIC_ACTIVE_KEY_ID", saved.active);
});

describe("keyringOf", () => {
  it("follows every change of the settings, and hands out a keyring nobody can change", () => {
    set("ANTHROPIC_API_KEY", undefined);
    set("ANTHROPIC_ACTIVE_KEY_ID", undefined);
    set("ANTHROPIC_API_KEYS", "a:sk-ant-one");
    const first = keyringOf("anthropic");
    expect(first.ok && first.ring.keys.map((k) => k.id)).toEqual(["a"]);
    expect(keyringOf("anthropic")).toBe(first);
    expect(hasSeveralKeys("anthropic")).toBe(false);
    if (first.ok) {
      expect(() => first.ring.keys.push({ id: "x", value: "y" })).toThrow();
      expect(() => {
        (first.ring.keys[0] as { value: string }).value = "changed";
      }).toThrow();
    }

    set("ANTHROPIC_API_KEYS", "a:sk-ant-one,b:sk-ant-two");
    set("ANTHROPIC_ACTIVE_KEY_ID", "b");
    expect(hasSeveralKeys("anthropic")).toBe(true);
    expect(keyFor("anthropic", undefined, "ANTHROPIC_API_KEY")).toBe("sk-ant-two");

    set("ANTHROPIC_ACTIVE_KEY_ID", "c");
    const broken = keyringOf("anthropic");
    expect(broken.ok).toBe(false);
    expect(!broken.ok && broken.message).toContain("ANTHROPIC_ACTIVE_KEY_ID");
    expect(!broken.ok && broken.message).not.toContain("sk-ant");

    set("ANTHROPIC_ACTIVE_KEY_ID", undefined);
    expect(keyFor("anthropic", undefined, "ANTHROPIC_API_KEY")).toBe("sk-ant-one");
  });
});

import { describe, expect, it } from "vitest";
import { chromiumAction, DEFAULT_CHROMIUM, installReason } from "./ensure-deps.mjs";

describe("installReason (does npm ci need to run?)", () => {
  it("installs when node_modules is missing", () => {
    expect(installReason({ hasNodeModules: false, installedMtimeMs: null, lockMtimeMs: 1000 })).toBe("node_modules is missing");
  });

  it("installs when node_modules has no npm install record", () => {
    expect(installReason({ hasNodeModules: true, installedMtimeMs: null, lockMtimeMs: 1000 })).toMatch(/no record/);
  });

  it("installs when package-lock.json changed after the last install", () => {
    expect(installReason({ hasNodeModules: true, installedMtimeMs: 1000, lockMtimeMs: 2000 })).toMatch(/newer/);
  });

  it("does nothing when the last install is as new as package-lock.json or newer", () => {
    expect(installReason({ hasNodeModules: true, installedMtimeMs: 2000, lockMtimeMs: 1000 })).toBeNull();
    expect(installReason({ hasNodeModules: true, installedMtimeMs: 2000, lockMtimeMs: 2000 })).toBeNull();
  });

  it("does not insist on a lock file that is not there", () => {
    expect(installReason({ hasNodeModules: true, installedMtimeMs: 2000, lockMtimeMs: null })).toBeNull();
  });
});

describe("chromiumAction (browser tests)", () => {
  const base = { executable: DEFAULT_CHROMIUM, custom: false, exists: false, isRoot: false, hasAptGet: true };

  it("does nothing when chromium is there", () => {
    expect(chromiumAction({ ...base, exists: true })).toEqual({ action: "none" });
    expect(chromiumAction({ ...base, exists: true, custom: true, executable: "/opt/chrome" })).toEqual({ action: "none" });
  });

  it("installs Debian's chromium as root with apt-get", () => {
    expect(chromiumAction({ ...base, isRoot: true })).toEqual({ action: "install" });
  });

  it("says how to install it when not root", () => {
    const d = chromiumAction(base);
    expect(d.action).toBe("fail");
    if (d.action === "fail") {
      expect(d.message).toContain("sudo apt-get install -y chromium");
      expect(d.message).toContain("CHROMIUM_PATH");
      // One sentence.
      expect(d.message.split(/[.!?](\s|$)/).filter((s) => s && s.trim()).length).toBe(1);
    }
  });

  it("says how to install it without apt-get, even as root", () => {
    const d = chromiumAction({ ...base, isRoot: true, hasAptGet: false });
    expect(d.action).toBe("fail");
    if (d.action === "fail") expect(d.message).toContain(DEFAULT_CHROMIUM);
  });

  it("does not install over a CHROMIUM_PATH that points nowhere", () => {
    const d = chromiumAction({ ...base, isRoot: true, custom: true, executable: "/opt/missing/chrome" });
    expect(d.action).toBe("fail");
    if (d.action === "fail") expect(d.message).toContain("CHROMIUM_PATH=/opt/missing/chrome");
  });
});

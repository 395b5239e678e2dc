import { describe, expect, it } from "vitest";
import { keyStatus, rotationGraceHours } from "./apiKeyStatus";

describe("key status and rotation grace", () => {
  it("moves from grace to revoked when the grace ends", () => {
    expect(keyStatus({}, 10)).toBe("active");
    expect(keyStatus({ graceEndsAt: 20 }, 10)).toBe("grace");
    expect(keyStatus({ graceEndsAt: 20 }, 20)).toBe("revoked");
    expect(keyStatus({ revokedAt: 5 }, 10)).toBe("revoked");
    expect(keyStatus({ expiresAt: 5 }, 10)).toBe("revoked");
  });

  it("takes grace hours from the call, then the environment, then 24", () => {
    expect(rotationGraceHours(2, "48")).toBe(2);
    expect(rotationGraceHours(undefined, "48")).toBe(48);
    expect(rotationGraceHours(undefined, undefined)).toBe(24);
    expect(rotationGraceHours(undefined, "nonsense")).toBe(24);
    expect(rotationGraceHours(0, undefined)).toBe(0);
    expect(() => rotationGraceHours(-1, undefined)).toThrow(RangeError);
    expect(() => rotationGraceHours(24 * 365, undefined)).toThrow(RangeError);
  });
});

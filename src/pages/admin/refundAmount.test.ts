import { describe, expect, test } from "vitest";
import { dollarsText, parseDollars } from "./refundAmount";

describe("the refund form's amount", () => {
  test("dollars to whole-cent micro-dollars", () => {
    expect(parseDollars("12.5")).toEqual({ ok: true, micros: 12_500_000 });
    expect(parseDollars(" $1,250.07 ")).toEqual({ ok: true, micros: 1_250_070_000 });
    expect(parseDollars("30")).toEqual({ ok: true, micros: 30_000_000 });
    for (const bad of ["", "abc", "1.234", "-5", "0", "0.00"]) expect(parseDollars(bad).ok).toBe(false);
    expect(dollarsText(30_000_000)).toBe("30.00");
    expect(dollarsText(1_250_070_000)).toBe("1250.07");
  });
});

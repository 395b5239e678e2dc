import { describe, expect, it } from "vitest";
import { PLANS } from "../plans";
import { type RequestShape, sizeRequest } from "./admission";

const chat = (over: Partial<RequestShape> = {}): RequestShape => ({
  kind: "chat",
  model: "gpt-4o-mini",
  promptTokens: 100,
  requestedMaxOutput: 50,
  choices: 1,
  characters: 0,
  ...over,
});
const trial = { state: "trial" as const, plan: "trial" as const };

describe("sizing a request before the ledger is read", () => {
  it("holds the prompt bound plus every choice's output, and speech by characters", () => {
    expect(sizeRequest(trial, chat())).toEqual({ ok: true, holdTokens: 150, maxOutputTokens: 50 });
    expect(sizeRequest(trial, chat({ choices: 3 }))).toEqual({ ok: true, holdTokens: 250, maxOutputTokens: 50 });
    expect(sizeRequest(trial, chat({ requestedMaxOutput: null }))).toMatchObject({
      ok: true,
      maxOutputTokens: PLANS.trial.limits.defaultMaxOutputTokens,
    });
    expect(sizeRequest(trial, { ...chat(), kind: "speech", model: "tts-1", promptTokens: 0, characters: 42 }))
      .toEqual({ ok: true, holdTokens: 42, maxOutputTokens: 0 });
  });

  it("refuses accounts that may not use the proxy, naming their state", () => {
    for (const state of ["pending", "suspended", "canceled"] as const) {
      expect(sizeRequest({ state, plan: "basic" }, chat())).toEqual({ ok: false, refusal: { reason: "account_inactive", state } });
    }
    expect(sizeRequest({ state: "past_due", plan: "basic" }, chat()).ok).toBe(true);
  });

  it("refuses unpriced models, models of another endpoint, and models outside the plan", () => {
    expect(sizeRequest(trial, chat({ model: "gpt-unknown" }))).toEqual({ ok: false, refusal: { reason: "model_not_found", model: "gpt-unknown" } });
    expect(sizeRequest(trial, chat({ model: "text-embedding-3-small" }))).toEqual({
      ok: false,
      refusal: { reason: "model_not_supported", model: "text-embedding-3-small" },
    });
    const outside = "gpt-4o";
    expect(sizeRequest(trial, chat({ model: outside }))).toEqual({
      ok: false,
      refusal: { reason: "model_not_in_plan", model: outside, plan: "trial" },
    });
    expect(sizeRequest({ state: "active", plan: "pro" }, chat({ model: outside })).ok).toBe(true);
  });

  it("refuses a request no minute of the plan could hold", () => {
    const tpm = PLANS.trial.limits.tokensPerMinute;
    expect(sizeRequest(trial, chat({ promptTokens: tpm, requestedMaxOutput: 1 }))).toEqual({
      ok: false,
      refusal: { reason: "request_too_large", plan: "trial", holdTokens: tpm + 1 },
    });
    expect(sizeRequest(trial, chat({ promptTokens: tpm - 1, requestedMaxOutput: 1 })).ok).toBe(true);
  });
});

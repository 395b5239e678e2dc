// The counting formulas other suites rely on to predict upstream usage exactly.
import { describe, expect, it } from "vitest";
import { chatPromptTokens, chatUsage, embeddingInputTokens, planCompletion, textTokens } from "./tokens.ts";

describe("token formulas", () => {
  it("counts ceil(code points / 4)", () => {
    expect(textTokens("")).toBe(0);
    expect(textTokens("abcd")).toBe(1);
    expect(textTokens("abcde")).toBe(2);
    expect(textTokens("😀😀😀😀😀")).toBe(2); // 5 code points, 10 UTF-16 units
  });

  it("charges names, non-text parts and tool calls on top of the text", () => {
    const parts = [{ type: "text", text: "abcdefgh" }, { type: "image_url", image_url: { url: "x" } }];
    expect(chatPromptTokens([{ role: "user", content: parts, name: "bob" }])).toBe(3 + 2 + 85 + 1 + 3);
    const toolCalls = [{ id: "1", type: "function", function: { name: "f", arguments: "{}" } }];
    expect(chatPromptTokens([{ role: "assistant", content: null, tool_calls: toolCalls }])).toBe(3 + textTokens(JSON.stringify(toolCalls)) + 3);
  });

  it("counts pre-tokenized embedding input per integer", () => {
    expect(embeddingInputTokens("abcdefgh")).toEqual([2]);
    expect(embeddingInputTokens(["a", "abcde"])).toEqual([1, 2]);
    expect(embeddingInputTokens([5, 6, 7])).toEqual([3]);
    expect(embeddingInputTokens([[1, 2], [3]])).toEqual([2, 1]);
  });

  it("plans a reply of 8..48 tokens that max_tokens truncates", () => {
    for (let i = 0; i < 50; i++) {
      const request = { model: "gpt-4o-mini", messages: [{ role: "user", content: `question ${i}` }] };
      const plan = planCompletion(request);
      expect(plan.completionTokens).toBeGreaterThanOrEqual(8);
      expect(plan.completionTokens).toBeLessThanOrEqual(48);
      expect(plan.pieces.join("")).toBe(plan.text);
      const capped = planCompletion({ ...request, max_tokens: 4 });
      expect(capped.pieces).toEqual(plan.pieces.slice(0, 4));
      expect(capped.finishReason).toBe("length");
    }
  });

  it("reports total = prompt + completion", () => {
    const usage = chatUsage({ model: "gpt-5", messages: [{ role: "user", content: "hi" }] });
    expect(usage.total_tokens).toBe(usage.prompt_tokens + usage.completion_tokens);
    expect(usage.completion_tokens_details.reasoning_tokens).toBeGreaterThanOrEqual(16);
  });
});

import { describe, expect, it } from "vitest";
import { chatPromptTokens, embeddingInputTokens } from "../../../dev/simulator/tokens";
import {
  estimateChatPromptTokens,
  estimateEmbeddingInputTokens,
  IMAGE_PART_TOKENS,
  speechCharacters,
  StreamedOutputCounter,
  utf8Bytes,
} from "./estimate";

describe("prompt estimates are upper bounds", () => {
  const cases = [
    [{ role: "user", content: "hi" }],
    [
      { role: "system", content: "You are terse." },
      { role: "user", content: "Ünïcödé — 日本語のテキスト and emoji 🎉🎉", name: "ann" },
    ],
    [{ role: "user", content: [{ type: "text", text: "describe" }, { type: "image_url", image_url: { url: "data:," } }] }],
    [{ role: "assistant", content: null, tool_calls: [{ id: "c1", type: "function", function: { name: "f", arguments: "{}" } }] }],
  ];

  it("are at least the simulator's deterministic count", () => {
    for (const messages of cases) {
      expect(estimateChatPromptTokens({ messages })).toBeGreaterThanOrEqual(chatPromptTokens(messages as never));
    }
  });

  it("count bytes, framing and images", () => {
    expect(estimateChatPromptTokens({ messages: [{ role: "user", content: "hi" }] })).toBe(3 + 4 + 4 + 2);
    const withImage = estimateChatPromptTokens({
      messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "x" } }] }],
    });
    expect(withImage).toBe(3 + 4 + 4 + IMAGE_PART_TOKENS);
    const withTools = estimateChatPromptTokens({ messages: [{ role: "user", content: "hi" }], tools: [{ a: 1 }] });
    expect(withTools - 13).toBe(utf8Bytes(JSON.stringify([{ a: 1 }])));
  });

  it("bound embeddings inputs and count token arrays exactly", () => {
    const inputs = ["hello", ["a", "bé"], [1, 2, 3], [[1, 2], [3]]] as const;
    for (const input of inputs) {
      const sim = embeddingInputTokens(input as never).reduce((s, n) => s + n, 0);
      expect(estimateEmbeddingInputTokens(input)).toBeGreaterThanOrEqual(sim);
    }
    expect(estimateEmbeddingInputTokens([1, 2, 3])).toBe(3);
    expect(estimateEmbeddingInputTokens([])).toBeNull();
    expect(estimateEmbeddingInputTokens([{}])).toBeNull();
    expect(estimateEmbeddingInputTokens(42)).toBeNull();
  });
});

describe("speech characters", () => {
  it("counts code points, not UTF-16 units", () => {
    expect(speechCharacters("abc")).toBe(3);
    expect(speechCharacters("🎉é")).toBe(2);
  });
});

describe("streamed output counter", () => {
  it("counts one token per non-empty delta and never more than the max", () => {
    const c = new StreamedOutputCounter(3);
    c.observe({ choices: [{ delta: { role: "assistant", content: "" } }] });
    expect(c.tokens).toBe(0);
    c.observe({ choices: [{ delta: { content: "Hello" } }] });
    c.observe({ choices: [{ delta: { tool_calls: [{ index: 0 }] } }] });
    c.observe({ choices: [], usage: { prompt_tokens: 1 } });
    c.observe({ choices: [{ delta: {}, finish_reason: "stop" }] });
    expect(c.tokens).toBe(2);
    c.observe({ choices: [{ delta: { content: "a" } }, { delta: { content: "b" } }] });
    expect(c.tokens).toBe(3);
  });
});

describe("utf8Bytes", () => {
  it("counts what TextEncoder encodes, lone surrogates and pairs included", () => {
    const encoder = new TextEncoder();
    const samples = [
      "", "a", "hello", "é", "ß€", "日本語", "🎉", "a🎉b", "\u07ff\u0800", "\uffff",
      "\ud83c", "\udf89", "x\ud83cy", "\udf89\ud83c", "\ud83c\ud83c\udf89", "end\ud83c",
    ];
    // And random strings over every UTF-16 unit, surrogates included.
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    // A quarter of the units are surrogates (high or low), so pairs and lone halves both occur.
    const unit = () => (next() % 4 === 0 ? 0xd800 + (next() % 0x800) : next() % 0x10000);
    for (let n = 0; n < 200; n++) {
      let s = "";
      for (let i = next() % 40; i > 0; i--) s += String.fromCharCode(unit());
      samples.push(s);
    }
    for (const s of samples) expect(utf8Bytes(s)).toBe(encoder.encode(s).length);
  });
});

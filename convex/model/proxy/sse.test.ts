import { describe, expect, it } from "vitest";
import { formatSseData, SseParser } from "./sse";

describe("SSE parser", () => {
  it("parses events split across arbitrary chunk boundaries", () => {
    const text = 'data: {"a":1}\n\ndata: {"b":2}\r\n\r\n: comment\n\ndata: [DONE]\n\n';
    for (let cut = 0; cut <= text.length; cut++) {
      const p = new SseParser();
      const events = [...p.push(text.slice(0, cut)), ...p.push(text.slice(cut)), ...p.end()];
      expect(events.map((e) => e.data)).toEqual(['{"a":1}', '{"b":2}', "[DONE]"]);
    }
  });

  it("joins multi-line data and keeps event names and ids", () => {
    const p = new SseParser();
    expect(p.push("event: ping\nid: 7\ndata: one\ndata:two\n\n")).toEqual([{ event: "ping", id: "7", data: "one\ntwo" }]);
  });

  it("dispatches a final event that lacked its blank line", () => {
    const p = new SseParser();
    expect(p.push("data: tail")).toEqual([]);
    expect(p.end()).toEqual([{ data: "tail" }]);
  });

  it("handles a lone \\r line ending", () => {
    const p = new SseParser();
    expect([...p.push("data: x\r\r"), ...p.end()]).toEqual([{ data: "x" }]);
  });

  it("formats data frames that round-trip", () => {
    const framed = formatSseData("a\nb");
    expect(framed).toBe("data: a\ndata: b\n\n");
    expect(new SseParser().push(framed)).toEqual([{ data: "a\nb" }]);
  });
});

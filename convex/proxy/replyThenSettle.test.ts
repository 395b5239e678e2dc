// replyThenSettle: the reply is complete (with its length) before usage is recorded, and every
// reply is settled exactly once whether the client reads it, abandons it, or the settle fails.
import { describe, expect, it } from "vitest";
import { replyThenSettle } from "./respond";

function counter(fail = false) {
  const calls: number[] = [];
  return {
    calls,
    settle: async () => {
      calls.push(Date.now());
      await Promise.resolve();
      if (fail) throw new Error("ledger unavailable");
      return 1;
    },
  };
}

describe("replyThenSettle", () => {
  it("declares the length, hands over the whole body, and settles once, when the end is asked for", async () => {
    const c = counter();
    const res = replyThenSettle('{"ok":true}', { status: 200, headers: { "content-type": "application/json" } }, c.settle);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-length")).toBe("11");
    expect(res.headers.get("content-type")).toBe("application/json");
    await Promise.resolve();
    expect(c.calls).toHaveLength(0);
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toBe('{"ok":true}');
    // Handing the body over does not start the settle; asking for what follows does.
    await new Promise((r) => setTimeout(r, 5));
    expect(c.calls).toHaveLength(0);
    expect((await reader.read()).done).toBe(true);
    expect(c.calls).toHaveLength(1);
  });

  it("counts bytes, not characters", () => {
    const res = replyThenSettle("é€", { status: 200, headers: {} }, async () => 0);
    expect(res.headers.get("content-length")).toBe("5");
  });

  it("settles a reply its client abandoned before reading it", async () => {
    const c = counter();
    const res = replyThenSettle("abc", { status: 200, headers: {} }, c.settle);
    await res.body!.cancel();
    expect(c.calls).toHaveLength(1);
  });

  it("settles once when the body is read through text()", async () => {
    const c = counter();
    const res = replyThenSettle(new Uint8Array([104, 105]), { status: 200, headers: {} }, c.settle);
    expect(await res.text()).toBe("hi");
    expect(c.calls).toHaveLength(1);
  });

  it("fails the stream's end, not the body, when settling fails", async () => {
    const c = counter(true);
    const res = replyThenSettle("abc", { status: 200, headers: {} }, c.settle);
    const reader = res.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe("abc");
    await expect(reader.read()).rejects.toThrow("ledger unavailable");
    expect(c.calls).toHaveLength(1);
  });
});

// plainStreams.ts: web streams stay plain objects (no transferable C++ wrapper on Node 20) and
// behave as before, inside the functions' EdgeVM and in the host; other transferable classes
// keep their own `instanceof` and can still be cloned.
import { SocketAddress } from "node:net";
import { EdgeVM } from "@edge-runtime/vm";
import { describe, expect, it } from "vitest";
import { installPlainStreams, plainStreams } from "./plainStreams.ts";

const nodeMajor = Number(process.versions.node.split(".")[0]);

function transferable(value: object): boolean {
  try {
    structuredClone(value, { transfer: [value as Transferable] });
    return true;
  } catch {
    return false;
  }
}

describe("plain web streams", () => {
  it("are installed on Node 20 (later versions need no change), and installing twice is harmless", () => {
    expect(plainStreams).toBe(nodeMajor === 20);
    expect(installPlainStreams()).toBe(plainStreams);
  });

  it.skipIf(!plainStreams)("skip Node's transferable wrapper for every kind of stream", () => {
    const { readable, writable } = new TransformStream();
    for (const stream of [new ReadableStream(), new WritableStream(), new TransformStream(), readable, writable]) {
      expect(transferable(stream)).toBe(false);
    }
  });

  it("still read, pipe, transform and write, with their own classes", async () => {
    const written: string[] = [];
    const source = new ReadableStream<string>({
      start(c) {
        c.enqueue("a");
        c.enqueue("b");
        c.close();
      },
    });
    const upper = new TransformStream<string, string>({ transform: (chunk, c) => c.enqueue(chunk.toUpperCase()) });
    await source.pipeThrough(upper).pipeTo(new WritableStream({ write: (chunk) => void written.push(chunk) }));
    expect(written).toEqual(["A", "B"]);
    expect(upper.readable).toBeInstanceOf(ReadableStream);
    expect(upper.writable).toBeInstanceOf(WritableStream);
    expect(Object.getPrototypeOf(new ReadableStream())).toBe(ReadableStream.prototype);
  });

  it("are what the functions' Response bodies and streams are made of", async () => {
    const vm = new EdgeVM();
    const out = await vm.evaluate(`(async () => {
      const res = new Response(new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode("hi")); c.close(); } }));
      const isStream = res.body instanceof ReadableStream;
      return { text: await res.text(), isStream };
    })()`);
    expect(out).toEqual({ text: "hi", isStream: true });
  });

  it("leave other classes' instanceof and cloning as they were", () => {
    const address = new SocketAddress({ address: "127.0.0.1", port: 80 });
    expect(address).toBeInstanceOf(SocketAddress);
    expect(new ReadableStream()).not.toBeInstanceOf(SocketAddress);
    expect({}).not.toBeInstanceOf(SocketAddress);
    expect(structuredClone(address)).toMatchObject({ address: "127.0.0.1", port: 80 });
  });
});

// Server-sent events: an incremental parser for the upstream stream and a formatter for ours.
// Pure. Follows the WHATWG EventSource parsing rules that matter for OpenAI's streams:
// lines end in \n, \r\n or \r; `data:` lines of one event are joined with \n; a blank line
// dispatches; lines starting with ':' are comments.

export interface SseEvent {
  event?: string;
  data: string;
  id?: string;
}

export class SseParser {
  private buffer = "";
  private data: string[] = [];
  private event: string | undefined;
  private id: string | undefined;

  /** Feed decoded text; returns the events completed by it. */
  push(text: string): SseEvent[] {
    this.buffer += text;
    const out: SseEvent[] = [];
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buffer);
      if (!m) break;
      // A trailing \r may be the first half of \r\n: wait for more input.
      if (m[0] === "\r" && m.index === this.buffer.length - 1) break;
      const line = this.buffer.slice(0, m.index);
      this.buffer = this.buffer.slice(m.index + m[0].length);
      const ev = this.line(line);
      if (ev) out.push(ev);
    }
    return out;
  }

  /** End of input: dispatches a final event that lacked its blank line. */
  end(): SseEvent[] {
    const out: SseEvent[] = [];
    if (this.buffer.length > 0) {
      const ev = this.line(this.buffer);
      this.buffer = "";
      if (ev) out.push(ev);
    }
    const ev = this.dispatch();
    if (ev) out.push(ev);
    return out;
  }

  private line(line: string): SseEvent | null {
    if (line === "") return this.dispatch();
    if (line.startsWith(":")) return null;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") this.data.push(value);
    else if (field === "event") this.event = value;
    else if (field === "id") this.id = value;
    return null;
  }

  private dispatch(): SseEvent | null {
    if (this.data.length === 0) {
      this.event = undefined;
      return null;
    }
    const ev: SseEvent = { data: this.data.join("\n") };
    if (this.event !== undefined) ev.event = this.event;
    if (this.id !== undefined) ev.id = this.id;
    this.data = [];
    this.event = undefined;
    return ev;
  }
}

/** One `data:` event as OpenAI frames it. */
export function formatSseData(data: string): string {
  return data
    .split(/\r\n|\r|\n/)
    .map((l) => `data: ${l}`)
    .join("\n") + "\n\n";
}

export const SSE_DONE = "[DONE]";

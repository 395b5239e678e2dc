// A strict reader of Prometheus text exposition 0.0.4, for tests: it throws on anything a
// Prometheus server would reject or silently misread (a sample before its TYPE, a family split
// in two, a bad escape, a duplicate series, a histogram whose buckets are not cumulative or whose
// +Inf bucket differs from its _count). The lenient parsers on npm accept most of those.

export interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface ParsedFamily {
  name: string;
  help: string | null;
  type: "counter" | "gauge" | "histogram" | "summary" | "untyped";
  samples: ParsedSample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

function fail(lineNo: number, message: string): never {
  throw new Error(`line ${lineNo}: ${message}`);
}

function parseValue(text: string, lineNo: number): number {
  if (text === "+Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  if (text === "NaN") return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) fail(lineNo, `invalid value ${JSON.stringify(text)}`);
  return Number(text);
}

/** `{a="x",b="y"}` starting at text[0] === "{": the labels and the rest of the line. */
function parseLabels(text: string, lineNo: number): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let i = 1;
  while (text[i] !== "}") {
    const name = LABEL_NAME.exec(text.slice(i))?.[0];
    if (!name) fail(lineNo, `invalid label name at ${JSON.stringify(text.slice(i, i + 20))}`);
    if (name in labels) fail(lineNo, `duplicate label ${name}`);
    i += name.length;
    if (text.slice(i, i + 2) !== '="') fail(lineNo, `expected =" after label ${name}`);
    i += 2;
    let value = "";
    for (;;) {
      const c = text[i];
      if (c === undefined) fail(lineNo, "unterminated label value");
      if (c === '"') break;
      if (c === "\n") fail(lineNo, "raw line feed in label value");
      if (c === "\\") {
        const e = text[i + 1];
        if (e === "\\") value += "\\";
        else if (e === '"') value += '"';
        else if (e === "n") value += "\n";
        else fail(lineNo, `invalid escape \\${e ?? ""}`);
        i += 2;
        continue;
      }
      value += c;
      i += 1;
    }
    i += 1;
    labels[name] = value;
    if (text[i] === ",") i += 1;
    else if (text[i] !== "}") fail(lineNo, `expected , or } after label ${name}`);
  }
  return { labels, rest: text.slice(i + 1) };
}

function familyOf(sample: string, families: Map<string, ParsedFamily>): ParsedFamily | undefined {
  const exact = families.get(sample);
  if (exact && exact.type !== "histogram" && exact.type !== "summary") return exact;
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    if (!sample.endsWith(suffix)) continue;
    const f = families.get(sample.slice(0, -suffix.length));
    if (f && (f.type === "histogram" || (f.type === "summary" && suffix !== "_bucket"))) return f;
  }
  return exact && exact.type === "summary" ? exact : undefined;
}

function checkHistogram(f: ParsedFamily): void {
  const series = new Map<string, { buckets: Array<{ le: number; count: number }>; count?: number; sum?: number }>();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const entry = series.get(key) ?? { buckets: [] };
    if (s.name.endsWith("_bucket")) {
      if (le === undefined) throw new Error(`${s.name} without le`);
      entry.buckets.push({ le: parseValue(le, 0), count: s.value });
    } else if (s.name.endsWith("_count")) entry.count = s.value;
    else entry.sum = s.value;
    series.set(key, entry);
  }
  for (const [key, s] of series) {
    const sorted = [...s.buckets].sort((a, b) => a.le - b.le);
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i].count < sorted[i - 1].count) throw new Error(`${f.name}${key}: buckets are not cumulative`);
    }
    const inf = sorted.at(-1);
    if (inf?.le !== Infinity) throw new Error(`${f.name}${key}: no +Inf bucket`);
    if (s.count === undefined || s.sum === undefined) throw new Error(`${f.name}${key}: _count or _sum missing`);
    if (inf.count !== s.count) throw new Error(`${f.name}${key}: +Inf bucket ${inf.count} != _count ${s.count}`);
  }
}

/** Parses the whole text, or throws naming the first line a Prometheus server would reject. */
export function parseExposition(text: string): Map<string, ParsedFamily> {
  if (!text.endsWith("\n")) throw new Error("exposition must end with a line feed");
  const families = new Map<string, ParsedFamily>();
  const seriesSeen = new Set<string>();
  const closed = new Set<string>();
  let current: ParsedFamily | null = null;
  const lines = text.slice(0, -1).split("\n");
  lines.forEach((line, idx) => {
    const lineNo = idx + 1;
    if (line.trim() === "") return;
    if (line.startsWith("#")) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!m) return; // a plain comment
      const [, kind, name, rest] = m;
      if (!METRIC_NAME.test(name) || METRIC_NAME.exec(name)![0] !== name) fail(lineNo, `invalid metric name ${name}`);
      if (closed.has(name)) fail(lineNo, `family ${name} appears twice`);
      let f = families.get(name);
      if (!f) {
        if (current) closed.add(current.name);
        f = { name, help: null, type: "untyped", samples: [] };
        families.set(name, f);
        current = f;
      } else if (f !== current) fail(lineNo, `${kind} for ${name} after another family`);
      if (f.samples.length > 0) fail(lineNo, `${kind} for ${name} after its samples`);
      if (kind === "HELP") {
        if (f.help !== null) fail(lineNo, `second HELP for ${name}`);
        if (/\\[^\\n]/.test(rest.replace(/\\\\/g, ""))) fail(lineNo, "invalid escape in HELP");
        f.help = rest.replace(/\\n/g, "\n").replace(/\\\\/g, "\\");
      } else {
        if (!TYPES.has(rest)) fail(lineNo, `unknown type ${rest}`);
        if (f.type !== "untyped") fail(lineNo, `second TYPE for ${name}`);
        f.type = rest as ParsedFamily["type"];
      }
      return;
    }
    const name = METRIC_NAME.exec(line)?.[0];
    if (!name) fail(lineNo, `invalid sample ${JSON.stringify(line.slice(0, 40))}`);
    let rest = line.slice(name.length);
    let labels: Record<string, string> = {};
    if (rest.startsWith("{")) ({ labels, rest } = parseLabels(rest, lineNo));
    const parts = rest.split(" ");
    if (parts[0] !== "" || parts.length < 2 || parts.length > 3) fail(lineNo, `expected " value [timestamp]" in ${JSON.stringify(line)}`);
    const value = parseValue(parts[1], lineNo);
    if (parts[2] !== undefined && !/^-?\d+$/.test(parts[2])) fail(lineNo, "invalid timestamp");
    const f = familyOf(name, families);
    if (!f) fail(lineNo, `sample ${name} has no TYPE declared before it`);
    if (f !== current) fail(lineNo, `sample ${name} outside its family's block`);
    if (f.type === "counter" && (value < 0 || Number.isNaN(value))) fail(lineNo, `counter ${name} is ${value}`);
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seriesSeen.has(key)) fail(lineNo, `duplicate series ${key}`);
    seriesSeen.add(key);
    f.samples.push({ name, labels, value });
  });
  for (const f of families.values()) if (f.type === "histogram") checkHistogram(f);
  return families;
}

/** The value of one series, or undefined when absent. */
export function sampleValue(families: Map<string, ParsedFamily>, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const f of families.values()) {
    for (const s of f.samples) {
      if (s.name !== name) continue;
      const keys = Object.keys(labels);
      if (keys.length === Object.keys(s.labels).length && keys.every((k) => s.labels[k] === labels[k])) return s.value;
    }
  }
  return undefined;
}

/** Every label value in the exposition, to check none is personal. */
export function allLabelValues(families: Map<string, ParsedFamily>): string[] {
  return [...families.values()].flatMap((f) => f.samples.flatMap((s) => Object.values(s.labels)));
}

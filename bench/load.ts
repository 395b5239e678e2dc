/**
 * A bounded load loop and the statistics the proxy benchmark reports. Requests only ever go to
 * loopback addresses; the loop stops at its request count or its deadline, whichever is first.
 */

export interface Sample {
  ok: boolean;
  status: number;
  /** Request start to the last body byte. */
  latencyMs: number;
  /** Request start to the first body byte (streams: the first SSE event). */
  ttfbMs: number;
  error?: string;
}

export interface LoadResult {
  samples: Sample[];
  wallMs: number;
  /** True when the deadline stopped the phase before `total` requests were sent. */
  truncated: boolean;
}

export interface JsonTarget {
  url: string;
  apiKey: string;
  body: unknown;
  stream: boolean;
  /** Extra request headers (a gateway's routing headers, say). */
  headers?: Record<string, string>;
}

const REQUEST_TIMEOUT_MS = 30_000;

export function assertLoopback(url: string): void {
  const host = new URL(url).hostname;
  if (!["127.0.0.1", "localhost", "[::1]", "::1"].includes(host)) {
    throw new Error(`The benchmark only sends load to this machine; refusing ${url}.`);
  }
}

/** One POST, timed to the first and the last body byte. A stream must end with [DONE]. */
export async function timedRequest(target: JsonTarget): Promise<Sample> {
  const started = performance.now();
  try {
    const response = await fetch(target.url, {
      method: "POST",
      headers: { ...target.headers, authorization: `Bearer ${target.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify(target.body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const reader = response.body!.getReader();
    let ttfbMs = -1;
    const decoder = new TextDecoder();
    let text = "";
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (ttfbMs < 0) ttfbMs = performance.now() - started;
      text += decoder.decode(value, { stream: true });
    }
    const latencyMs = performance.now() - started;
    const ok = response.status === 200 && (target.stream ? text.includes("data: [DONE]") : text.includes('"usage"'));
    return {
      ok,
      status: response.status,
      latencyMs,
      ttfbMs: ttfbMs < 0 ? latencyMs : ttfbMs,
      ...(ok ? {} : { error: text.slice(0, 300) }),
    };
  } catch (error) {
    const latencyMs = performance.now() - started;
    return { ok: false, status: 0, latencyMs, ttfbMs: latencyMs, error: (error as Error).message };
  }
}

/** Sends `total` requests with at most `concurrency` in flight; `send(i)` builds request i. */
export async function runLoad(options: {
  total: number;
  concurrency: number;
  deadline: number;
  send: (index: number) => Promise<Sample>;
}): Promise<LoadResult> {
  const samples: Sample[] = [];
  let next = 0;
  let truncated = false;
  const started = performance.now();
  const worker = async () => {
    for (;;) {
      if (Date.now() >= options.deadline) {
        truncated = next < options.total;
        return;
      }
      const index = next++;
      if (index >= options.total) return;
      samples.push(await options.send(index));
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, options.total) }, worker));
  return { samples, wallMs: performance.now() - started, truncated };
}

/** Nearest-rank percentile of an unsorted list; NaN for an empty one. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export interface Summary {
  sent: number;
  ok: number;
  failed: number;
  /** status (0 = network error) -> count, failures only. */
  failures: Record<string, number>;
  firstError: string | null;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
  ttfbP50: number;
  ttfbP99: number;
  /** Successful requests per second of wall time. */
  rps: number;
  truncated: boolean;
  /** CPU time of the server under test per request sent, when the benchmark could read it. */
  cpuMsPerRequest?: number | null;
}

export function summarize(result: LoadResult): Summary {
  const good = result.samples.filter((s) => s.ok);
  const latencies = good.map((s) => s.latencyMs);
  const ttfb = good.map((s) => s.ttfbMs);
  const failures: Record<string, number> = {};
  for (const s of result.samples) if (!s.ok) failures[String(s.status)] = (failures[String(s.status)] ?? 0) + 1;
  return {
    sent: result.samples.length,
    ok: good.length,
    failed: result.samples.length - good.length,
    failures,
    firstError: result.samples.find((s) => !s.ok)?.error ?? null,
    p50: percentile(latencies, 50),
    p90: percentile(latencies, 90),
    p99: percentile(latencies, 99),
    max: latencies.length ? Math.max(...latencies) : Number.NaN,
    mean: latencies.length ? latencies.reduce((a, b) => a + b, 0) / latencies.length : Number.NaN,
    ttfbP50: percentile(ttfb, 50),
    ttfbP99: percentile(ttfb, 99),
    rps: good.length / (result.wallMs / 1000),
    truncated: result.truncated,
  };
}

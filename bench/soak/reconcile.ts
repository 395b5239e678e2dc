/**
 * The soak test's proof, pure: what the clients sent, what the provider simulator served (and the
 * usage its replies reported), and what the backend recorded (read from its data dir after the
 * last graceful shutdown), compared request by request. Every check that fails adds a line to
 * `failures`; the figures are what the report prints. No I/O here: reconcile.test.ts feeds it
 * rows that must fail (a double bill, a lost request, an estimate over its bound...).
 *
 * How a client request is found on each side: every HTTP attempt carries a unique tag in the
 * body's `user` field, which the proxy passes upstream unchanged, so the simulator's served list
 * names it; the backend's request id comes back in `x-request-id`. An attempt whose answer never
 * arrived (aborted before the headers, connection lost) has no backend id: its usage event is
 * then found among the account's events that no attempt claimed, by exactly the usage the
 * simulator reported (or, for estimates, the prompt bound the proxy holds).
 */
import { PLANS, type PlanId } from "../../convex/model/plans.ts";
import { quotaUnits } from "../../convex/model/usage/totals.ts";

/** How one HTTP attempt of a client ended, as the client saw it. */
export type AttemptOutcome =
  /** A complete answer (JSON, or a stream that ended with [DONE]). */
  | "ok"
  /** The client aborted a stream after some chunks (the proxy keeps draining upstream). */
  | "aborted_mid_stream"
  /** The client aborted before any answer arrived. */
  | "aborted_before_answer"
  /** The stream broke off with the proxy's error event (an upstream cut). */
  | "stream_error"
  /** An HTTP error answer (4xx/5xx) from the backend. */
  | "http_error"
  /** No HTTP answer at all: refused or reset connection (the restart), timeout. */
  | "connection_error"
  /** 503 `starting` from a runtime whose functions were still loading: nothing ran. */
  | "backend_starting";

export interface ClientAttempt {
  /** Unique per attempt; sent as the request's `user`. */
  tag: string;
  /** The account whose key sent it. */
  email: string;
  model: string;
  stream: boolean;
  /** The proxy's prompt bound for this body (model/proxy/estimate.ts estimateChatPromptTokens). */
  promptBound: number;
  /** max_completion_tokens sent: the most output the proxy may hold and bill. */
  maxOutput: number;
  outcome: AttemptOutcome;
  httpStatus: number | null;
  /** x-request-id of the backend's answer; null when no answer arrived. */
  backendRequestId: string | null;
  /** The error body's `code` of an HTTP error (insufficient_quota, rate_limit_exceeded...). */
  errorCode?: string;
  startedAt: number;
  latencyMs: number;
}

/** OpenAI's usage object, as the simulator reported it. */
export interface ProviderUsageObject {
  prompt_tokens: number;
  completion_tokens?: number;
}

/** One upstream request as the simulator served it (GET /_sim/served). */
export interface ServedRow {
  seq: number;
  requestId: string | null;
  tag: string | null;
  path: string;
  stream: boolean;
  status: number | null;
  outcome: "pending" | "completed" | "failed" | "cut" | "client_closed";
  /** The usage the proxy received; null when it never reached it. */
  usage: ProviderUsageObject | null;
  plannedUsage: ProviderUsageObject | null;
  eventsWritten: number | null;
}

/** One usageEvents row of the backend. */
export interface LedgerEvent {
  _id: string;
  requestId: string;
  userId: string;
  model: string;
  tokensIn: number;
  tokensOut: number;
  characters: number;
  costMicros: number;
  usageSource: "provider" | "estimate";
  status: string;
  httpStatus: number;
  at: number;
}

export interface AccountRow {
  userId: string;
  email: string;
  plan: PlanId;
  state: string;
}

/** One usageMonthly row: the balance the quota is decided on. */
export interface BalanceRow {
  userId: string;
  month: string;
  tokensIn: number;
  tokensOut: number;
  characters: number;
  costMicros: number;
  requests: number;
}

/** Usage the soak put on the ledger itself (through settle), to bring accounts near their limits. */
export interface SeededUsage {
  requestId: string;
  userId: string;
  tokensIn: number;
  tokensOut: number;
}

export interface UsageInput {
  attempts: ClientAttempt[];
  served: ServedRow[];
  events: LedgerEvent[];
  accounts: AccountRow[];
  balances: BalanceRow[];
  seeded: SeededUsage[];
}

/** What happened to one client request, as the reconciliation classified it. */
export type RequestClass =
  /** Billed at the provider's count, equal to what the simulator reported. */
  | "provider_count"
  /** The upstream stream was cut: billed at the proxy's estimate, within its bound. */
  | "estimate_cut"
  /** The client left before the upstream answered: nothing or an estimate within the bound. */
  | "explained_client_left"
  /** Every upstream attempt failed: a zero-token event (or none, if never admitted). */
  | "upstream_failed"
  /** Never reached the upstream (refused by the backend, or the connection failed). */
  | "not_sent_upstream";

export interface UsageFigures {
  classes: Record<RequestClass, number>;
  /** Upstream attempts the simulator saw, and how many of them it failed (5xx) or cut. */
  upstreamAttempts: number;
  upstreamFailed: number;
  upstreamCut: number;
  /** Tokens the simulator reported and the ledger billed at the provider's count (equal when ok). */
  providerTokens: { reported: { in: number; out: number }; billed: { in: number; out: number } };
  estimatedTokens: { in: number; out: number };
  costMicros: number;
  /** Of which the seeds' (usage the soak put on the ledger itself). */
  seededCostMicros: number;
  /** Events matched to their attempt by the account and usage (the attempt had no backend id). */
  matchedWithoutId: number;
  /** Accounts whose month used the most of their hard cap, as a share (1 = at the cap). */
  highestCapShare: number;
  ledgerEvents: number;
  seededEvents: number;
}

export interface Reconciliation<F> {
  failures: string[];
  figures: F;
}

const eq = (a: number, b: number) => a === b;

/** Exact usage comparison of one event against what the simulator reported. */
function sameUsage(e: LedgerEvent, u: ProviderUsageObject): boolean {
  return e.usageSource === "provider" && eq(e.tokensIn, u.prompt_tokens) && eq(e.tokensOut, u.completion_tokens ?? 0);
}

/** Whether an estimate stays within the proxy's documented bound (docs/proxy.md "Upstream dies midway"). */
export function estimateWithinBound(e: Pick<LedgerEvent, "tokensIn" | "tokensOut">, attempt: Pick<ClientAttempt, "promptBound" | "maxOutput">, contentEvents: number | null): boolean {
  if (e.tokensIn > attempt.promptBound) return false;
  if (e.tokensOut > attempt.maxOutput) return false;
  // One token per content delta received: never more deltas than the simulator wrote.
  if (contentEvents !== null && e.tokensOut > contentEvents) return false;
  return true;
}

export function reconcileUsage(input: UsageInput): Reconciliation<UsageFigures> {
  const failures: string[] = [];
  const fail = (message: string) => failures.push(message);
  const classes: Record<RequestClass, number> = {
    provider_count: 0,
    estimate_cut: 0,
    explained_client_left: 0,
    upstream_failed: 0,
    not_sent_upstream: 0,
  };

  // No request id billed twice.
  const byRequestId = new Map<string, LedgerEvent[]>();
  for (const e of input.events) byRequestId.set(e.requestId, [...(byRequestId.get(e.requestId) ?? []), e]);
  for (const [requestId, rows] of byRequestId) {
    if (rows.length > 1) fail(`request ${requestId} billed ${rows.length} times (usage events ${rows.map((r) => r._id).join(", ")})`);
  }

  const seededIds = new Set(input.seeded.map((s) => s.requestId));
  const claimed = new Set<string>();
  const claim = (e: LedgerEvent) => claimed.add(e._id);

  // Seeded usage: exactly as put on the ledger.
  for (const seed of input.seeded) {
    const rows = byRequestId.get(seed.requestId) ?? [];
    if (rows.length !== 1) {
      fail(`seeded usage ${seed.requestId}: ${rows.length} usage events, expected 1`);
      continue;
    }
    const e = rows[0];
    claim(e);
    if (e.userId !== seed.userId || e.tokensIn !== seed.tokensIn || e.tokensOut !== seed.tokensOut) {
      fail(`seeded usage ${seed.requestId}: recorded ${e.tokensIn}/${e.tokensOut} for ${e.userId}, seeded ${seed.tokensIn}/${seed.tokensOut} for ${seed.userId}`);
    }
  }

  const accountByEmail = new Map(input.accounts.map((a) => [a.email, a]));
  const accountById = new Map(input.accounts.map((a) => [a.userId, a]));
  const attemptByTag = new Map<string, ClientAttempt>();
  for (const a of input.attempts) {
    if (attemptByTag.has(a.tag)) fail(`client tag ${a.tag} used by two attempts`);
    attemptByTag.set(a.tag, a);
  }

  // The simulator's rows by the tag the client sent.
  const servedByTag = new Map<string, ServedRow[]>();
  let upstreamFailed = 0;
  let upstreamCut = 0;
  for (const row of input.served) {
    if (row.outcome === "failed") upstreamFailed += 1;
    if (row.outcome === "cut") upstreamCut += 1;
    if (row.tag === null || !attemptByTag.has(row.tag)) {
      fail(`the upstream served ${row.requestId ?? `#${row.seq}`} (${row.path}) for no client request (tag ${row.tag ?? "none"})`);
      continue;
    }
    servedByTag.set(row.tag, [...(servedByTag.get(row.tag) ?? []), row]);
  }

  // Events an attempt names by its backend id.
  const eventOf = (a: ClientAttempt): LedgerEvent | null => {
    if (a.backendRequestId === null) return null;
    const rows = byRequestId.get(a.backendRequestId);
    return rows && rows.length > 0 ? rows[0] : null;
  };
  const namedIds = new Set(input.attempts.map((a) => a.backendRequestId).filter((id): id is string => id !== null));
  // Per account, the events no attempt names (candidates for attempts without a backend id).
  const unnamed = new Map<string, LedgerEvent[]>();
  for (const e of input.events) {
    if (namedIds.has(e.requestId) || seededIds.has(e.requestId)) continue;
    unnamed.set(e.userId, [...(unnamed.get(e.userId) ?? []), e]);
  }
  let matchedWithoutId = 0;
  const takeUnnamed = (userId: string, test: (e: LedgerEvent) => boolean): LedgerEvent | null => {
    const pool = unnamed.get(userId) ?? [];
    const found = pool.find((e) => !claimed.has(e._id) && test(e));
    if (found) matchedWithoutId += 1;
    return found ?? null;
  };

  let reportedIn = 0;
  let reportedOut = 0;
  let billedIn = 0;
  let billedOut = 0;
  let estIn = 0;
  let estOut = 0;
  const miscountByUser = new Map<string, number>();

  // Attempts with a provider count first: their match by usage is exact, so estimates and
  // zero-token events cannot take an event that belongs to one of them.
  const order = [...input.attempts].sort((a, b) => rank(servedByTag.get(a.tag) ?? []) - rank(servedByTag.get(b.tag) ?? []));
  for (const attempt of order) {
    const account = accountByEmail.get(attempt.email);
    if (!account) {
      fail(`attempt ${attempt.tag}: account ${attempt.email} is not in the backend's data`);
      continue;
    }
    const rows = servedByTag.get(attempt.tag) ?? [];
    const named = eventOf(attempt);
    if (named && named.userId !== account.userId) fail(`attempt ${attempt.tag}: event ${named.requestId} belongs to another account`);
    const delivered = rows.filter((r) => r.usage !== null);
    if (delivered.length > 1) {
      fail(`attempt ${attempt.tag}: the upstream answered ${delivered.length} times (${delivered.map((r) => r.requestId).join(", ")}): the provider bills each`);
    }
    const cut = rows.find((r) => r.outcome === "cut");
    if (delivered.length >= 1) {
      const usage = delivered[0].usage!;
      reportedIn += usage.prompt_tokens;
      reportedOut += usage.completion_tokens ?? 0;
      const event = named ?? takeUnnamed(account.userId, (e) => sameUsage(e, usage) && e.model === attempt.model);
      if (!event) {
        fail(`lost: the upstream served ${delivered[0].requestId} (attempt ${attempt.tag}, ${usage.prompt_tokens}+${usage.completion_tokens ?? 0} tokens) and the ledger has no usage event for it`);
        continue;
      }
      claim(event);
      if (!sameUsage(event, usage)) {
        fail(`request ${event.requestId} (attempt ${attempt.tag}): ledger ${event.usageSource} ${event.tokensIn}+${event.tokensOut}, upstream reported ${usage.prompt_tokens}+${usage.completion_tokens ?? 0}`);
        continue;
      }
      billedIn += event.tokensIn;
      billedOut += event.tokensOut;
      const miscount = Math.max(0, usage.prompt_tokens - attempt.promptBound);
      miscountByUser.set(account.userId, Math.max(miscountByUser.get(account.userId) ?? 0, miscount));
      classes.provider_count += 1;
      continue;
    }
    if (cut) {
      // The role chunk is the first event; each later one carried one token of content.
      const contentEvents = cut.eventsWritten === null ? null : Math.max(0, cut.eventsWritten - 1);
      const event = named ?? takeUnnamed(account.userId, (e) => e.usageSource === "estimate" && e.model === attempt.model && estimateWithinBound(e, attempt, contentEvents));
      if (!event) {
        fail(`lost: the upstream stream ${cut.requestId} (attempt ${attempt.tag}) was cut and the ledger has no estimate for it`);
        continue;
      }
      claim(event);
      if (event.usageSource !== "estimate") {
        fail(`request ${event.requestId} (attempt ${attempt.tag}): a cut stream billed as ${event.usageSource}, not flagged as an estimate`);
        continue;
      }
      if (!estimateWithinBound(event, attempt, contentEvents)) {
        fail(`request ${event.requestId} (attempt ${attempt.tag}): estimate ${event.tokensIn}+${event.tokensOut} over its bound (prompt <= ${attempt.promptBound}, output <= min(${attempt.maxOutput}, ${contentEvents ?? "?"} deltas))`);
        continue;
      }
      estIn += event.tokensIn;
      estOut += event.tokensOut;
      classes.estimate_cut += 1;
      continue;
    }
    if (rows.some((r) => r.outcome === "client_closed")) {
      // The proxy let go of the upstream before it answered: the provider reported nothing.
      const event = named ?? takeUnnamed(account.userId, (e) => e.model === attempt.model && (e.tokensIn + e.tokensOut === 0 || (e.usageSource === "estimate" && estimateWithinBound(e, attempt, null))));
      if (event) {
        claim(event);
        const zero = event.tokensIn + event.tokensOut === 0;
        if (!zero && (event.usageSource !== "estimate" || !estimateWithinBound(event, attempt, null))) {
          fail(`request ${event.requestId} (attempt ${attempt.tag}): the client left before the upstream answered, yet it was billed ${event.usageSource} ${event.tokensIn}+${event.tokensOut}`);
          continue;
        }
        estIn += event.tokensIn;
        estOut += event.tokensOut;
      }
      classes.explained_client_left += 1;
      continue;
    }
    if (rows.length > 0) {
      // Every upstream attempt failed: the hold is released and the event records zero tokens.
      const event = named ?? takeUnnamed(account.userId, (e) => e.tokensIn + e.tokensOut === 0 && e.model === attempt.model);
      if (event) {
        claim(event);
        if (event.tokensIn + event.tokensOut + event.costMicros !== 0) {
          fail(`request ${event.requestId} (attempt ${attempt.tag}): every upstream attempt failed, yet it was billed ${event.tokensIn}+${event.tokensOut}`);
          continue;
        }
      } else if (attempt.outcome === "http_error") {
        fail(`attempt ${attempt.tag}: the upstream failed it and the backend answered ${attempt.httpStatus}, but recorded no usage event`);
        continue;
      }
      classes.upstream_failed += 1;
      continue;
    }
    // Never reached the upstream: any event it has must bill nothing.
    if (named) {
      claim(named);
      if (named.tokensIn + named.tokensOut + named.costMicros !== 0) {
        fail(`request ${named.requestId} (attempt ${attempt.tag}): never sent upstream, yet billed ${named.tokensIn}+${named.tokensOut}`);
        continue;
      }
    }
    classes.not_sent_upstream += 1;
  }

  // Whatever no attempt explains must bill nothing.
  for (const e of input.events) {
    if (claimed.has(e._id)) continue;
    if (e.tokensIn + e.tokensOut + e.characters + e.costMicros !== 0) {
      fail(`request ${e.requestId} billed ${e.tokensIn}+${e.tokensOut} tokens for ${e.userId} with no client request or upstream reply behind it`);
    }
  }
  if (reportedIn !== billedIn || reportedOut !== billedOut) {
    fail(`provider-counted tokens: upstream reported ${reportedIn}+${reportedOut}, ledger billed ${billedIn}+${billedOut}`);
  }

  // Each balance is the sum of its events (the restart lost or doubled nothing on it).
  failures.push(...balanceFailures(input.events, input.balances));
  let highestCapShare = 0;
  for (const b of input.balances) {
    const account = accountById.get(b.userId);
    if (!account) continue;
    const plan = PLANS[account.plan];
    // docs/proxy.md "The bound": at most concurrentRequests x the per-request prompt miscount.
    const bound = plan.limits.concurrentRequests * (miscountByUser.get(b.userId) ?? 0);
    const used = quotaUnits(b);
    highestCapShare = Math.max(highestCapShare, used / plan.hardCapTokens);
    if (used > plan.hardCapTokens + bound) {
      fail(`${account.email} used ${used} quota units in ${b.month}, over its ${plan.id} hard cap ${plan.hardCapTokens} + bound ${bound}`);
    }
  }

  return {
    failures,
    figures: {
      classes,
      upstreamAttempts: input.served.length,
      upstreamFailed,
      upstreamCut,
      providerTokens: { reported: { in: reportedIn, out: reportedOut }, billed: { in: billedIn, out: billedOut } },
      estimatedTokens: { in: estIn, out: estOut },
      costMicros: input.events.reduce((s, e) => s + e.costMicros, 0),
      seededCostMicros: input.events.filter((e) => seededIds.has(e.requestId)).reduce((s, e) => s + e.costMicros, 0),
      matchedWithoutId,
      highestCapShare,
      ledgerEvents: input.events.length,
      seededEvents: input.seeded.length,
    },
  };
}

/** Each usageMonthly document equals the sum of its user's events of that month, field by field. */
export function balanceFailures(events: LedgerEvent[], balances: BalanceRow[]): string[] {
  const failures: string[] = [];
  const sums = new Map<string, BalanceRow>();
  for (const e of events) {
    const month = new Date(e.at).toISOString().slice(0, 7);
    const key = `${e.userId} ${month}`;
    const s = sums.get(key) ?? { userId: e.userId, month, tokensIn: 0, tokensOut: 0, characters: 0, costMicros: 0, requests: 0 };
    s.tokensIn += e.tokensIn;
    s.tokensOut += e.tokensOut;
    s.characters += e.characters;
    s.costMicros += e.costMicros;
    s.requests += 1;
    sums.set(key, s);
  }
  for (const b of balances) {
    const key = `${b.userId} ${b.month}`;
    const s = sums.get(key) ?? { tokensIn: 0, tokensOut: 0, characters: 0, costMicros: 0, requests: 0 };
    sums.delete(key);
    for (const field of ["tokensIn", "tokensOut", "characters", "costMicros", "requests"] as const) {
      if (b[field] !== s[field]) failures.push(`balance of ${b.userId} for ${b.month}: ${field} ${b[field]}, its usage events sum to ${s[field]}`);
    }
  }
  for (const [key, s] of sums) failures.push(`usage events of ${key} (${s.requests}) have no balance document`);
  return failures;
}

/** Provider-counted attempts first, then cut streams, then the rest. */
function rank(rows: ServedRow[]): number {
  if (rows.some((r) => r.usage !== null)) return 0;
  if (rows.some((r) => r.outcome === "cut")) return 1;
  return 2;
}

// ---------------------------------------------------------------------------------------------
// Webhooks: every event the provider delivered is applied exactly once.

export interface WebhookDeliveryRow {
  provider: string;
  eventId: string;
  /** The app's HTTP status; null when it was not reached (no URL, connection refused). */
  status: number | null;
}

export interface WebhookEventRow {
  provider: string;
  eventId: string;
  status?: string;
  outcome: string;
}

export interface WebhookFigures {
  deliveries: number;
  distinctEvents: number;
  duplicatesDelivered: number;
  rows: number;
  byStatus: Record<string, number>;
}

export function reconcileWebhooks(deliveries: WebhookDeliveryRow[], rows: WebhookEventRow[], providers: string[] = ["stripe", "polar"]): Reconciliation<WebhookFigures> {
  const failures: string[] = [];
  const key = (provider: string, eventId: string) => `${provider}:${eventId}`;
  const accepted = new Map<string, number>();
  for (const d of deliveries) {
    if (d.status === 200) accepted.set(key(d.provider, d.eventId), (accepted.get(key(d.provider, d.eventId)) ?? 0) + 1);
    else if (d.status !== null) failures.push(`webhook ${d.provider} ${d.eventId}: the app answered ${d.status}`);
  }
  const byKey = new Map<string, WebhookEventRow[]>();
  const byStatus: Record<string, number> = {};
  let considered = 0;
  for (const r of rows) {
    if (!providers.includes(r.provider)) continue;
    considered += 1;
    byKey.set(key(r.provider, r.eventId), [...(byKey.get(key(r.provider, r.eventId)) ?? []), r]);
    const status = r.status ?? r.outcome;
    byStatus[status] = (byStatus[status] ?? 0) + 1;
    if (r.status === "failed") failures.push(`webhook ${r.provider} ${r.eventId} was recorded as failed (${r.outcome})`);
  }
  for (const [k, list] of byKey) if (list.length > 1) failures.push(`webhook ${k} recorded ${list.length} times`);
  for (const k of accepted.keys()) if (!byKey.has(k)) failures.push(`webhook ${k} was accepted (200) but has no webhookEvents row`);
  for (const k of byKey.keys()) if (!accepted.has(k)) failures.push(`webhookEvents row ${k} matches no delivery the provider made`);
  const delivered = deliveries.filter((d) => d.status === 200).length;
  return {
    failures,
    figures: {
      deliveries: delivered,
      distinctEvents: accepted.size,
      duplicatesDelivered: delivered - accepted.size,
      rows: considered,
      byStatus,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Overage: decided once per account, month and chunk; sent once to the provider.

export interface OverageOutboxRow {
  userId: string;
  month: string;
  meter: "input" | "output";
  from: number;
  to: number;
  identifier: string;
  status: "pending" | "sent" | "failed";
}

export interface OverageCursorRow {
  userId: string;
  month: string;
  reported: { input: number; output: number };
  sent: { input: number; output: number };
}

/** A usage event the billing provider holds (the simulator's Stripe meter events). */
export interface ProviderMeterEvent {
  identifier: string;
  value: number;
}

export interface OverageFigures {
  accounts: number;
  chunks: number;
  sent: number;
  pending: number;
  tokensReported: number;
}

/** `providerEvents` null: the provider's side is not compared (a data dir checked on its own). */
export function reconcileOverage(outbox: OverageOutboxRow[], cursors: OverageCursorRow[], providerEvents: ProviderMeterEvent[] | null): Reconciliation<OverageFigures> {
  const failures: string[] = [];
  const ids = new Map<string, number>();
  for (const r of outbox) ids.set(r.identifier, (ids.get(r.identifier) ?? 0) + 1);
  for (const [id, n] of ids) if (n > 1) failures.push(`overage chunk ${id} decided ${n} times`);
  const atProvider = new Map<string, ProviderMeterEvent[]>();
  for (const e of providerEvents ?? []) atProvider.set(e.identifier, [...(atProvider.get(e.identifier) ?? []), e]);
  for (const [id, list] of atProvider) {
    if (list.length > 1) failures.push(`overage ${id} reported to the provider ${list.length} times`);
    if (!ids.has(id)) failures.push(`the provider holds overage ${id}, which no outbox row decided`);
  }
  let sent = 0;
  let pending = 0;
  let tokensReported = 0;
  for (const c of cursors) {
    for (const meter of ["input", "output"] as const) {
      const chunks = outbox.filter((r) => r.userId === c.userId && r.month === c.month && r.meter === meter).sort((a, b) => a.from - b.from);
      let at = 0;
      let sentTokens = 0;
      for (const chunk of chunks) {
        if (chunk.from !== at) failures.push(`overage of ${c.userId} ${c.month} ${meter}: chunk [${chunk.from}, ${chunk.to}) after ${at} (a gap or an overlap)`);
        at = chunk.to;
        if (chunk.status === "sent") {
          sent += 1;
          sentTokens += chunk.to - chunk.from;
          const held = atProvider.get(chunk.identifier) ?? [];
          if (providerEvents === null) continue;
          if (held.length === 0) failures.push(`overage chunk ${chunk.identifier} is marked sent but the provider does not have it`);
          else if (held[0].value !== chunk.to - chunk.from) failures.push(`overage chunk ${chunk.identifier}: the provider holds ${held[0].value}, the chunk is ${chunk.to - chunk.from}`);
        } else if (chunk.status === "pending") pending += 1;
        else failures.push(`overage chunk ${chunk.identifier} failed to send`);
      }
      if (at !== c.reported[meter]) failures.push(`overage of ${c.userId} ${c.month} ${meter}: cursor reported ${c.reported[meter]}, chunks cover ${at}`);
      if (sentTokens !== c.sent[meter]) failures.push(`overage of ${c.userId} ${c.month} ${meter}: cursor sent ${c.sent[meter]}, sent chunks hold ${sentTokens}`);
      tokensReported += c.reported[meter];
    }
  }
  for (const r of outbox) {
    if (!cursors.some((c) => c.userId === r.userId && c.month === r.month)) failures.push(`overage chunk ${r.identifier} has no cursor`);
  }
  return { failures, figures: { accounts: cursors.length, chunks: outbox.length, sent, pending, tokensReported } };
}

// ---------------------------------------------------------------------------------------------
// A data dir on its own (docs/runbooks/restore-backup.md): what must hold whatever the traffic.

export interface StoredData {
  events: LedgerEvent[];
  balances: BalanceRow[];
  webhookEvents: WebhookEventRow[];
  outbox: OverageOutboxRow[];
  cursors: OverageCursorRow[];
}

/** Invariants of the stored data alone: no request billed twice, balances = their events, webhooks once, overage tiled. */
export function checkStoredData(d: StoredData): string[] {
  const failures: string[] = [];
  const requestIds = new Map<string, number>();
  for (const e of d.events) requestIds.set(e.requestId, (requestIds.get(e.requestId) ?? 0) + 1);
  for (const [id, n] of requestIds) if (n > 1) failures.push(`request ${id} billed ${n} times`);
  failures.push(...balanceFailures(d.events, d.balances));
  const webhookKeys = new Map<string, number>();
  for (const w of d.webhookEvents) webhookKeys.set(`${w.provider}:${w.eventId}`, (webhookKeys.get(`${w.provider}:${w.eventId}`) ?? 0) + 1);
  for (const [k, n] of webhookKeys) if (n > 1) failures.push(`webhook ${k} recorded ${n} times`);
  failures.push(...reconcileOverage(d.outbox, d.cursors, null).failures);
  return failures;
}

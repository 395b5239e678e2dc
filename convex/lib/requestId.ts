// Request ids for the AI proxy and the Dex API: one id per HTTP request, the same one that
// `begin` holds under, `settle` records on the usage event, every response carries as
// `x-request-id` (success or error, JSON or SSE), and every log line about the request names.
//
// The id is always ours (`req_` + 24 base62): it is the ledger's idempotency key (settle finds
// an existing event by it and does not bill twice), so an id a client chose could be replayed to
// make a second request settle as the first, unbilled. A client's own id is still accepted when
// it is sane (x-request-id, or x-client-request-id as OpenAI names it: 1-128 characters of
// letters, digits and `._:-`), echoed back as `x-client-request-id`, and logged beside ours, so
// the client can correlate its logs with ours and ours with the usage event.
import { randomBase62 } from "../model/apiKeySecrets";

export const REQUEST_ID_HEADER = "x-request-id";
export const CLIENT_REQUEST_ID_HEADER = "x-client-request-id";

const SANE_CLIENT_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** A client-sent id if it is sane, else null (too long, empty, or characters a log could be forged with). */
export function saneClientRequestId(value: string | null | undefined): string | null {
  const id = value?.trim();
  return id && SANE_CLIENT_ID.test(id) ? id : null;
}

export interface RequestIds {
  /** Ours: the usage event's requestId and the response's x-request-id. */
  requestId: string;
  /** The client's own id, when it sent a sane one. */
  clientRequestId: string | null;
}

/** A new id of ours: `req_` and 24 base62 characters (143 bits), OpenAI's shape. */
export function newRequestId(): string {
  return `req_${randomBase62(24)}`;
}

// One id per Request object: the wrapper (proxy/respond.ts withOpenAiErrors) and the endpoint
// that admits the request ask for it separately and must get the same one.
const assigned = new WeakMap<Request, RequestIds>();

export function requestIdsOf(request: Request): RequestIds {
  let ids = assigned.get(request);
  if (ids === undefined) {
    const client = saneClientRequestId(request.headers.get(CLIENT_REQUEST_ID_HEADER)) ?? saneClientRequestId(request.headers.get(REQUEST_ID_HEADER));
    ids = { requestId: newRequestId(), clientRequestId: client };
    assigned.set(request, ids);
  }
  return ids;
}

/** This request's id (ours), assigned on first use. */
export function requestIdOf(request: Request): string {
  return requestIdsOf(request).requestId;
}

/** The headers that carry the ids back to the client. */
export function requestIdHeaders(ids: RequestIds): Record<string, string> {
  return ids.clientRequestId === null
    ? { [REQUEST_ID_HEADER]: ids.requestId }
    : { [REQUEST_ID_HEADER]: ids.requestId, [CLIENT_REQUEST_ID_HEADER]: ids.clientRequestId };
}

/** "request req_... (client abc)" for log lines. */
export function describeRequestIds(ids: RequestIds): string {
  return ids.clientRequestId === null ? `request ${ids.requestId}` : `request ${ids.requestId} (client id ${ids.clientRequestId})`;
}

/**
 * The response with the ids' headers set (a header the handler already set wins, so an endpoint
 * that set x-request-id itself is left alone). A response whose headers are immutable (one
 * passed through from fetch) is rebuilt around the same body stream.
 */
export function withRequestIdHeaders(response: Response, ids: RequestIds): Response {
  const missing = Object.entries(requestIdHeaders(ids)).filter(([name]) => !response.headers.has(name));
  if (missing.length === 0) return response;
  try {
    for (const [name, value] of missing) response.headers.set(name, value);
    return response;
  } catch {
    const headers = new Headers(response.headers);
    for (const [name, value] of missing) headers.set(name, value);
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
  }
}

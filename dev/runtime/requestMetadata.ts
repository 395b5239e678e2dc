// Who sent a request, as Convex reports it to functions through
// `ctx.meta.getRequestMetadata()`: the client's IP and User-Agent. Convex takes the IP
// from the connection as its edge sees it. Here that is the socket's remote address (of the
// HTTP request, or of the WebSocket upgrade for calls made over the sync connection).
//
// Every local client connects from 127.0.0.1, so load tests and benchmarks could not give
// each simulated client its own address. With `trustForwardedFor` (dev only, off by default)
// the first X-Forwarded-For hop stands in for the edge's view instead. Nothing in production
// trusts that header from a client: it is forged by anyone who sends it.
import type { IncomingMessage } from "node:http";
import { isIP } from "node:net";

export interface RequestMetadata {
  ip: string | null;
  userAgent: string | null;
}

/** An IPv4 client on a dual-stack socket shows as ::ffff:a.b.c.d; Convex reports a.b.c.d. */
export function normalizeIp(address: string | undefined | null): string | null {
  if (!address) return null;
  const mapped = address.match(/^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i);
  return mapped ? mapped[1] : address;
}

/** The client end of an X-Forwarded-For chain (its first hop), when that is an IP address. */
export function firstForwardedHop(header: string | string[] | undefined): string | null {
  const value = Array.isArray(header) ? header[0] : header;
  const first = value?.split(",")[0]?.trim();
  return first && isIP(first) !== 0 ? normalizeIp(first) : null;
}

export function requestMetadataOf(req: IncomingMessage, trustForwardedFor: boolean): RequestMetadata {
  const forwarded = trustForwardedFor ? firstForwardedHop(req.headers["x-forwarded-for"]) : null;
  return {
    ip: forwarded ?? normalizeIp(req.socket.remoteAddress),
    userAgent: req.headers["user-agent"] ?? null,
  };
}

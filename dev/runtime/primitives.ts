// The Web primitives the functions run with (EdgeVM's: @edge-runtime/primitives, undici's
// Fetch classes inside), loaded with two changes before EdgeVM is (the second: the runtime's own
// factories, below at TRUSTED_REQUEST_FACTORY). First, a body made from a string or
// bytes (`new Response(text)`, `new Request(url, {body: bytes})`) gets its ReadableStream only
// when something asks for the stream, and `text()` / `json()` / `arrayBuffer()` on such a body
// read the bytes directly instead of through a stream that was never needed.
//
// Why: undici builds that stream eagerly, and Node's ReadableStream constructor is costly (it
// also makes the stream transferable); reading it back takes a reader, a pull, a microtask to
// close and a copy. Every proxied request's body is such a body (the runtime hands the handler
// its bytes). What a function can observe is unchanged: `body` is a ReadableStream of the same
// bytes when asked for, `bodyUsed` is true after a read (the stream, made then, is disturbed),
// a second read fails the same way, `clone()` tees as before. See README, "Performance:
// function calls".
//
// The engine takes a reply's bytes the same way (the symbol below, vm/engine.ts), so a reply
// built from a string goes to the socket without a stream either.
//
// The process must import this module before @edge-runtime/vm (engineHost.ts does): EdgeVM
// requires the primitives once, and they are then taken from Node's require cache.
import { readFileSync } from "node:fs";
import Module, { createRequire } from "node:module";
import path from "node:path";
import { replaceExactly } from "./bundle.ts";
import { RUNTIME_KEYS, symbolSource } from "./vm/runtimeKeys.ts";

const PKG = "@edge-runtime/primitives";

/** undici's stream for a string or bytes `source` in extractBody: matched exactly, and reused as the lazy one's maker. */
const EAGER_STREAM = `        stream = new ReadableStream({
          async pull(controller) {
            const buffer = typeof source === "string" ? textEncoder.encode(source) : source;
            if (buffer.byteLength) {
              controller.enqueue(buffer);
            }
            queueMicrotask(() => readableStreamClose(controller));
          },
          start() {
          },
          type: "bytes"
        });`;

const LAZY_BODY = `
    const __lazyStream = Symbol("lazy body stream");
    const __takeWhole = ${symbolSource(RUNTIME_KEYS.takeWholeBody)};
    function __bytesStream(source) {
      let stream;
${EAGER_STREAM}
      return stream;
    }
    function __lazyBody(source, length) {
      let stream = null;
      let taken = false;
      const body = { source, length };
      Object.defineProperty(body, "stream", {
        configurable: true,
        enumerable: true,
        get() {
          if (stream === null) {
            stream = __bytesStream(source);
            if (taken) {
              // Read already: the stream asked for afterwards is a disturbed one, as it would be.
              const reader = stream.getReader();
              reader.read().catch(() => {});
              reader.releaseLock();
            }
          }
          return stream;
        },
        set(value) {
          stream = value;
        }
      });
      Object.defineProperty(body, __takeWhole, {
        value() {
          if (stream !== null || taken) return null;
          taken = true;
          return typeof source === "string" ? textEncoder.encode(source) : source;
        }
      });
      return body;
    }
    function extractBody(object, keepalive = false) {`;

/**
 * Factories the runtime itself uses (engine.ts, hostFetch.ts), on symbols functions never ask
 * for: a Request or a Response whose headers come from Node's HTTP parser, which has already
 * checked them, appended to its header list without undici's per-header conversions and
 * checks; the Request's own abort controller handed back (for a client that disconnects)
 * instead of a second controller the Request would have to follow; and a Headers object's
 * pairs exactly as forEach gives them (sorted, combined, set-cookie apart), without the iterator.
 */
export const TRUSTED_RESPONSE = Symbol.for(RUNTIME_KEYS.trustedResponse);

const REQUEST_ABORT_SINK = `        this[kState] = request;
        const ac = new AbortController();
        this[kSignal] = ac.signal;`;

const TRUSTED_REQUEST_FACTORY = `    var __requestAbortSink = null;
    function __slowTrustedRequest(Ctor, url, method, headerPairs, body) {
      let ac = null;
      __requestAbortSink = (c) => {
        ac = c;
      };
      let request;
      try {
        request = new Ctor(url, body === null ? { method, duplex: "half" } : { method, body, duplex: "half" });
      } finally {
        __requestAbortSink = null;
      }
      const list = request[kState].headersList;
      for (let i = 0; i < headerPairs.length; i++) list.append(headerPairs[i][0], headerPairs[i][1], false);
      return { request, abort: (reason) => ac.abort(reason) };
    }
    Object.defineProperty(Request2, ${symbolSource(RUNTIME_KEYS.trustedRequest)}, {
      // body: bytes or null (a byte body adds no content-type of its own).
      // Called on EdgeVM's Request (a subclass that adds duplex), so an instance of that class is
      // built. The state is the one the constructor gives new Ctor(url, { method, body, duplex })
      // (primitives.test.ts compares them field by field), set directly: the constructor's
      // dictionary conversions, its second copy of the request record and its header list copies
      // were most of an incoming request's construction.
      value: function trustedRequest(url, method, headerPairs, body) {
        const Ctor = typeof this === "function" ? this : Request2;
        const normalized = normalizedMethodRecords[method];
        let parsedURL = null;
        try {
          parsedURL = new URL(url, environmentSettingsObject.settingsObject.baseUrl);
        } catch {}
        if (normalized === void 0 || (body !== null && (normalized === "GET" || normalized === "HEAD")) ||
          parsedURL === null || parsedURL.username || parsedURL.password) {
          // An unusual method, a body on GET or HEAD, a URL that does not parse or carries
          // credentials: the constructor, with its own checks and errors.
          return __slowTrustedRequest(Ctor, url, method, headerPairs, body);
        }
        const request = Reflect.construct(Request2, [kConstruct], Ctor);
        request[kDispatcher] = void 0;
        const state = makeRequest({
          method: normalized,
          client: environmentSettingsObject.settingsObject,
          mode: "cors",
          urlList: [parsedURL],
          body: body === null ? null : extractBody(body, false)[0],
        });
        for (let i = 0; i < headerPairs.length; i++) state.headersList.append(headerPairs[i][0], headerPairs[i][1], false);
        request[kState] = state;
        // The signal's controller is made when something asks for the signal (or aborts it): a
        // proxied request never does, and an AbortController is a good part of the cost.
        let ac = null;
        const controller = () => {
          if (ac === null) {
            ac = new AbortController();
            Object.defineProperty(request, kSignal, { value: ac.signal, writable: true, enumerable: true, configurable: true });
          }
          return ac;
        };
        Object.defineProperty(request, kSignal, {
          get: () => controller().signal,
          set: (value) => Object.defineProperty(request, kSignal, { value, writable: true, enumerable: true, configurable: true }),
          enumerable: true,
          configurable: true,
        });
        const headers = new Headers2(kConstruct);
        setHeadersList(headers, state.headersList);
        setHeadersGuard(headers, "request");
        request[kHeaders] = headers;
        return { request, abort: (reason) => controller().abort(reason) };
      }
    });
`;

const TRUSTED_RESPONSE_FACTORY = `    Object.defineProperty(Response2, ${symbolSource(RUNTIME_KEYS.trustedResponse)}, {
      // rawHeaders: Node's flat [name, value, name, value, ...]; body: bytes, a stream or null.
      // The state new Response2(body, { status, statusText }) gives, with the headers appended
      // after it (primitives.test.ts compares them), set directly: no dictionary conversions.
      value: function trustedResponse(body, status, statusText, rawHeaders) {
        let response;
        if (status < 200 || status > 599 || !isValidReasonPhrase(statusText) || (body !== null && nullBodyStatus.includes(status))) {
          // The constructor's own RangeError or TypeError.
          response = new Response2(body, { status, statusText });
        } else {
          response = new Response2(kConstruct);
          const state = makeResponse({ status, statusText });
          if (body !== null) {
            const [extracted, type] = extractBody(body);
            state.body = extracted;
            if (type != null) state.headersList.append("content-type", type, true);
          }
          response[kState] = state;
          const headers = new Headers2(kConstruct);
          setHeadersGuard(headers, "response");
          setHeadersList(headers, state.headersList);
          response[kHeaders] = headers;
        }
        const list = response[kState].headersList;
        for (let i = 0; i < rawHeaders.length; i += 2) list.append(rawHeaders[i], rawHeaders[i + 1], false);
        return response;
      }
    });
`;

const HEADER_PAIRS_ACCESSOR = `    Object.defineProperty(Headers2, ${symbolSource(RUNTIME_KEYS.headerPairs)}, {
      // The array forEach iterates (cached by undici until the headers change): read it, never change it.
      value: function headerPairs(headers) {
        webidl.brandCheck(headers, Headers2);
        return headers[kHeadersSortedMap];
      }
    });
`;

/** `load.js` of @edge-runtime/primitives with lazy string/bytes body streams and the factories (see above). */
export function patchPrimitives(source: string): string {
  let s = replaceExactly(source, "\n    function extractBody(object, keepalive = false) {", LAZY_BODY, 1, PKG);
  s = replaceExactly(
    s,
    `      } else {\n${EAGER_STREAM}\n      }\n      assert(isReadableStreamLike(stream));`,
    `      } else {
        stream = __lazyStream;
      }
      assert(stream === __lazyStream || isReadableStreamLike(stream));`,
    1,
    PKG,
  );
  s = replaceExactly(
    s,
    "      const body = { stream, source, length };\n      return [body, type];",
    "      const body = stream === __lazyStream ? __lazyBody(source, length) : { stream, source, length };\n      return [body, type];",
    1,
    PKG,
  );
  s = replaceExactly(
    s,
    `      webidl.brandCheck(object, instance);
      if (bodyUnusable(object)) {
        throw new TypeError("Body is unusable: Body has already been read");
      }`,
    `      webidl.brandCheck(object, instance);
      const lazy = object[kState].body;
      if (lazy != null && lazy[__takeWhole] !== void 0) {
        throwIfAborted(object[kState]);
        const whole = lazy[__takeWhole]();
        if (whole !== null) return convertBytesToJSValue(whole);
      }
      if (bodyUnusable(object)) {
        throw new TypeError("Body is unusable: Body has already been read");
      }`,
    1,
    PKG,
  );
  s = replaceExactly(s, REQUEST_ABORT_SINK, `${REQUEST_ABORT_SINK}\n        if (__requestAbortSink !== null) __requestAbortSink(ac);`, 1, PKG);
  s = replaceExactly(
    s,
    "    module2.exports = { Request: Request2, makeRequest, fromInnerRequest, cloneRequest };",
    `${TRUSTED_REQUEST_FACTORY}    module2.exports = { Request: Request2, makeRequest, fromInnerRequest, cloneRequest };`,
    1,
    PKG,
  );
  s = replaceExactly(
    s,
    "    module2.exports = {\n      isNetworkError,\n      makeNetworkError: makeNetworkError2,",
    `${TRUSTED_RESPONSE_FACTORY}    module2.exports = {\n      isNetworkError,\n      makeNetworkError: makeNetworkError2,`,
    1,
    PKG,
  );
  s = replaceExactly(
    s,
    '    Reflect.deleteProperty(Headers2, "setHeadersList");\n',
    `    Reflect.deleteProperty(Headers2, "setHeadersList");\n${HEADER_PAIRS_ACCESSOR}`,
    1,
    PKG,
  );
  return s;
}

const hostRequire = createRequire(import.meta.url);
const filename = hostRequire.resolve(`${PKG}/load`);

/** False when something loaded the primitives before this module could patch them. */
export const primitivesPatched: boolean = (() => {
  if (hostRequire.cache[filename] !== undefined) return false;
  const mod = new Module(filename);
  mod.filename = filename;
  mod.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(path.dirname(filename));
  (mod as unknown as { _compile(code: string, file: string): void })._compile(patchPrimitives(readFileSync(filename, "utf8")), filename);
  mod.loaded = true;
  hostRequire.cache[filename] = mod;
  return true;
})();

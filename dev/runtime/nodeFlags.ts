// The V8 flags a process running the runtime starts with: every spawn of `standalone.ts`
// (bench/stack.ts, bench/soak/processes.ts) passes RUNTIME_NODE_FLAGS, and package.json's `dev`
// and `backend` scripts spell the same flags for tsx (nodeFlags.test.ts keeps them equal).
//
// Why a larger young generation: a proxied request allocates its Request, Response, stream,
// syscall objects and documents, and nearly all of it is garbage within the request. With V8's
// default 16 MB semi-space, a scavenge runs several times a second under load and copies whatever
// the requests in flight hold at that moment; at 64 MB it runs a quarter as often for the same
// survivors, so the collector's share of the runtime's main thread under 16 and 64 concurrent
// requests went from 8.1% to 6.3% (CPU profiles of the same benchmark phases), and the process's
// CPU per request at 16 concurrent (collector threads included) was lower in 6 of 7 alternating
// runs (README.md, "Performance"). The space grows to that size only under allocation pressure.
export const RUNTIME_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=64"];

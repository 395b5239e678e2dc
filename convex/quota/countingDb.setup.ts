// Tests only: a ctx whose db counts the documents a handler reads (every document a get or a
// query returned to it) and writes (insert, patch, replace, delete), and the queries it starts
// (an index range or table it searched, whatever it found). convex-test keeps no such counter,
// so the ledger's tests wrap the db the handler is given and count at that seam.

export interface DocCounts {
  read: number;
  written: number;
  /** Queries started (`db.query`): each searches an index range rather than fetching by id. */
  queries: number;
}

const WRITES = new Set(["insert", "patch", "replace", "delete"]);

function countingQuery(query: any, counts: DocCounts): any {
  return new Proxy(query, {
    get(target, prop) {
      const value = target[prop];
      if (typeof value !== "function") return value;
      if (prop === "collect" || prop === "take") {
        return async (...args: unknown[]) => {
          const docs = await value.apply(target, args);
          counts.read += docs.length;
          return docs;
        };
      }
      if (prop === "first" || prop === "unique") {
        return async (...args: unknown[]) => {
          const doc = await value.apply(target, args);
          if (doc !== null) counts.read += 1;
          return doc;
        };
      }
      if (prop === "paginate") {
        return async (...args: unknown[]) => {
          const result = await value.apply(target, args);
          counts.read += result.page.length;
          return result;
        };
      }
      if (prop === Symbol.asyncIterator) {
        return () => {
          const it = value.apply(target);
          return {
            async next() {
              const r = await it.next();
              if (!r.done) counts.read += 1;
              return r;
            },
            [Symbol.asyncIterator]() {
              return this;
            },
          };
        };
      }
      // withIndex, order, filter...: still a query.
      return (...args: unknown[]) => countingQuery(value.apply(target, args), counts);
    },
  });
}

/** `ctx` with its db wrapped; `counts` grows as the handler reads and writes. */
export function countingCtx<C extends { db: any }>(ctx: C): { ctx: C; counts: DocCounts } {
  const counts: DocCounts = { read: 0, written: 0, queries: 0 };
  const db = new Proxy(ctx.db, {
    get(target, prop) {
      const value = target[prop];
      if (typeof value !== "function") return value;
      if (prop === "get") {
        return async (...args: unknown[]) => {
          const doc = await value.apply(target, args);
          if (doc !== null) counts.read += 1;
          return doc;
        };
      }
      if (prop === "query") {
        return (...args: unknown[]) => {
          counts.queries += 1;
          return countingQuery(value.apply(target, args), counts);
        };
      }
      if (typeof prop === "string" && WRITES.has(prop)) {
        return async (...args: unknown[]) => {
          counts.written += 1;
          return await value.apply(target, args);
        };
      }
      return value.bind(target);
    },
  });
  return { ctx: { ...ctx, db }, counts };
}

// One projection for views and wire shapes built from stored rows: the fields named, with the
// row's absent optional fields as null (how a query's `returns` validator and the SPA spell
// "none"; undefined does not survive the wire as a value).

/** `fields` as stored; `optional` with undefined as null. */
export type Projection<T, F extends keyof T, O extends keyof T> = { [K in F]: T[K] } & { [K in O]-?: Exclude<T[K], undefined> | null };

export function project<T, F extends keyof T, O extends keyof T = never>(row: T, fields: readonly F[], optional: readonly O[] = []): Projection<T, F, O> {
  const out: Partial<Record<keyof T, unknown>> = {};
  for (const k of fields) out[k] = row[k];
  for (const k of optional) out[k] = row[k] ?? null;
  return out as Projection<T, F, O>;
}

// What the sync and HTTP endpoints share: calling a function by path as a given
// caller, with the checks the real backend makes before convex-test runs it
// (the function exists, has the requested type, and is public unless the caller
// holds the admin key), plus logging of failures with their original stack.
import { convexToJson } from "convex/values";
import type { UserIdentity } from "convex/server";
import { ModuleLoadError, type CallKind, type HostEngine } from "./engineHost.ts";
import { clientErrorMessage, notFoundMessage } from "./protocol.ts";
import type { RequestMetadata } from "./requestMetadata.ts";

export interface Caller {
  identity: UserIdentity | null;
  /** Holds the deployment's admin key: may call internal functions. */
  admin: boolean;
  /** The client's IP and User-Agent; absent for calls no client made (admin runs, seeding). */
  request?: RequestMetadata;
}

/** `readTables` lets subscriptions re-run only when a commit wrote one of them. */
export type WireResult = { readTables: string[]; logLines: string[]; journal: string | null } & (
  | { ok: true; value: unknown }
  | { ok: false; errorMessage: string; errorData?: unknown }
);

export interface Logger {
  info(msg: string): void;
  error(msg: string): void;
}

export class Deployment {
  constructor(
    readonly engine: HostEngine,
    private log: Logger,
  ) {}

  /** `kind` undefined: whatever the function is (used by /api/function). */
  async run(
    kind: CallKind | undefined,
    udfPath: string,
    argsJson: unknown,
    caller: Caller,
    journal: string | null = null,
    token: string | null = null,
  ): Promise<WireResult> {
    let info: Awaited<ReturnType<HostEngine["describe"]>>;
    try {
      info = await this.engine.describe(udfPath);
    } catch (e) {
      if (!(e instanceof ModuleLoadError)) throw e;
      this.log.error(`${e.message}\n${e.originalStack}`);
      return { ok: false, errorMessage: clientErrorMessage(e.message, false), readTables: [], logLines: [], journal: null };
    }
    if (
      info === null ||
      info.kind === "httpAction" ||
      (kind !== undefined && info.kind !== kind) ||
      (info.visibility === "internal" && !caller.admin)
    ) {
      return { ok: false, errorMessage: notFoundMessage(udfPath), readTables: [], logLines: [], journal: null };
    }
    const result = await this.engine.call(info.kind, udfPath, argsJson, caller.identity, journal, token, caller.request ?? null);
    for (const line of result.logLines) this.log.info(`${info.kind} ${udfPath}: ${line}`);
    const { readTables, logLines } = result;
    if (result.ok) return { ok: true, value: convexToJson(result.value), readTables, logLines, journal: result.journal };
    const hasData = result.dataJson !== undefined;
    if (hasData) {
      // Expected application errors (ConvexError): one line, no stack.
      this.log.info(`${info.kind} ${udfPath} threw ConvexError: ${result.message}`);
    } else {
      this.log.error(`${info.kind} ${udfPath} failed: ${result.stack ?? result.message}`);
    }
    return {
      ok: false,
      readTables,
      logLines,
      journal: result.journal,
      errorMessage: clientErrorMessage(result.message, hasData),
      errorData: result.dataJson,
    };
  }
}

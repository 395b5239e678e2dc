// Types for scripts/ensure-deps.mjs (plain JavaScript so it runs before tsx is installed).

export declare const DEFAULT_CHROMIUM: string;

export declare function installReason(state: {
  lockMtimeMs: number | null;
  installedMtimeMs: number | null;
  hasNodeModules: boolean;
}): string | null;

export type ChromiumAction = { action: "none" } | { action: "install" } | { action: "fail"; message: string };

export declare function chromiumAction(state: {
  executable: string;
  custom: boolean;
  exists: boolean;
  isRoot: boolean;
  hasAptGet: boolean;
}): ChromiumAction;

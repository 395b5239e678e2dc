// Runs before `npm run dev`, `npm run backend` and `npm test` so a fresh clone needs
// nothing else: installs node_modules (npm ci) when they are missing or older than
// package-lock.json and, with --browser, makes sure the browser tests have Debian's
// chromium. Plain Node with built-ins only: it runs before tsx is installed.
//
//   node scripts/ensure-deps.mjs             node packages only
//   node scripts/ensure-deps.mjs --browser   node packages, then chromium
//
// Prints nothing when there is nothing to do.
import { spawnSync } from "node:child_process";
import console from "node:console";
import { accessSync, constants, existsSync, statSync } from "node:fs";
import path from "node:path";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";

export const DEFAULT_CHROMIUM = "/usr/bin/chromium";

/**
 * Why `npm ci` must run, or null when node_modules is up to date. npm writes
 * node_modules/.package-lock.json at the end of every install, so it is older than
 * package-lock.json exactly when the lock file changed (a pull, a dependency bump)
 * after the last install.
 * @param {{ lockMtimeMs: number | null, installedMtimeMs: number | null, hasNodeModules: boolean }} s
 * @returns {string | null}
 */
export function installReason({ lockMtimeMs, installedMtimeMs, hasNodeModules }) {
  if (!hasNodeModules) return "node_modules is missing";
  if (installedMtimeMs === null) return "node_modules has no record of an npm install";
  if (lockMtimeMs !== null && installedMtimeMs < lockMtimeMs) return "package-lock.json is newer than node_modules";
  return null;
}

/**
 * What to do about the browser tests' chromium.
 * @param {{ executable: string, custom: boolean, exists: boolean, isRoot: boolean, hasAptGet: boolean }} s
 * @returns {{ action: "none" } | { action: "install" } | { action: "fail", message: string }}
 */
export function chromiumAction({ executable, custom, exists, isRoot, hasAptGet }) {
  if (exists) return { action: "none" };
  if (custom) {
    return {
      action: "fail",
      message: `Browser tests need chromium, but CHROMIUM_PATH=${executable} does not exist: point CHROMIUM_PATH at a chromium binary (or unset it to use Debian's ${DEFAULT_CHROMIUM}), then npm test again.`,
    };
  }
  if (isRoot && hasAptGet) return { action: "install" };
  return {
    action: "fail",
    message: hasAptGet
      ? "Browser tests need Debian's chromium: run `sudo apt-get install -y chromium` (or set CHROMIUM_PATH), then npm test again."
      : `Browser tests need chromium at ${DEFAULT_CHROMIUM}: install it (Debian: \`apt-get install -y chromium\`) or set CHROMIUM_PATH to a chromium binary, then npm test again.`,
  };
}

function mtimeMs(file) {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return null;
  }
}

function isExecutable(file) {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

function onPath(command) {
  return (process.env.PATH ?? "")
    .split(path.delimiter)
    .some((dir) => dir !== "" && isExecutable(path.join(dir, command)));
}

/** Runs a command with the terminal attached; returns its exit code. */
function run(command, args, env = process.env) {
  const result = spawnSync(command, args, { stdio: "inherit", env });
  if (result.error) {
    console.error(`ensure-deps: could not run ${command}: ${result.error.message}`);
    return 1;
  }
  return result.status ?? 1;
}

function ensureNodeModules(root) {
  const reason = installReason({
    lockMtimeMs: mtimeMs(path.join(root, "package-lock.json")),
    installedMtimeMs: mtimeMs(path.join(root, "node_modules", ".package-lock.json")),
    hasNodeModules: existsSync(path.join(root, "node_modules")),
  });
  if (reason === null) return;
  console.log(`Installing dependencies (npm ci) because ${reason}...`);
  // The npm that runs this script (npm sets npm_execpath), else the one on PATH.
  const npmCli = process.env.npm_execpath;
  const args = ["ci", "--no-audit", "--no-fund"];
  const code =
    npmCli && /\.[cm]?js$/.test(npmCli)
      ? run(process.execPath, [npmCli, ...args])
      : process.platform === "win32"
        ? run("cmd.exe", ["/d", "/s", "/c", "npm", ...args])
        : run("npm", args);
  if (code !== 0) {
    console.error(`npm ci failed (exit code ${code}); fix the error above, then run the command again.`);
    process.exit(code);
  }
}

function ensureChromium() {
  const custom = Boolean(process.env.CHROMIUM_PATH);
  const executable = process.env.CHROMIUM_PATH || DEFAULT_CHROMIUM;
  const decision = chromiumAction({
    executable,
    custom,
    exists: isExecutable(executable),
    isRoot: typeof process.getuid === "function" && process.getuid() === 0,
    hasAptGet: onPath("apt-get"),
  });
  if (decision.action === "none") return;
  if (decision.action === "fail") {
    console.error(decision.message);
    process.exit(1);
  }
  console.log("Installing Debian's chromium for the browser tests (apt-get install -y chromium)...");
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  if (run("apt-get", ["update", "-q"], env) !== 0 || run("apt-get", ["install", "-y", "-q", "chromium"], env) !== 0) {
    console.error("Installing chromium with apt-get failed (see above): install it yourself with `apt-get install -y chromium` (or set CHROMIUM_PATH), then npm test again.");
    process.exit(1);
  }
  if (!isExecutable(executable)) {
    console.error(`apt-get installed chromium but ${executable} still does not exist: set CHROMIUM_PATH to the chromium binary, then npm test again.`);
    process.exit(1);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
  ensureNodeModules(root);
  if (process.argv.includes("--browser")) ensureChromium();
}

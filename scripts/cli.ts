// Admin CLI: `npm run cli -- <command>`. Talks to the deployment's HTTP API with the
// admin key, so it reaches internal functions that no browser can call.
//   Offline (npm run dev): no configuration; the key is read from the runtime's data dir.
//   Real deployment: CONVEX_URL=https://<name>.convex.cloud CONVEX_ADMIN_KEY=<deploy key>.
import { readFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { ConvexHttpClient } from "convex/browser";
import type { FunctionReference } from "convex/server";
import { internal } from "../convex/_generated/api";
import { pathToFileURL } from "node:url";

export class UsageError extends Error {}

const PLANS = ["trial", "basic", "pro"] as const;
const ROLES = ["user", "support", "admin"] as const;
const STEPS = [
  "workspace_user",
  "mailbox",
  "number_order",
  "messaging_profile",
  "signal_register",
  "signal_code",
  "signal_verify",
  "workspace_suspend",
  "workspace_restore",
  "signal_unregister",
  "number_release",
  "workspace_delete",
] as const;

export const HELP = `Poindexter admin CLI

  accounts create    --email E [--plan trial|basic|pro] [--role user|support|admin]
  accounts show      --email E [--json]
  accounts set-role  --email E --role user|support|admin [--reason TEXT]
  accounts set-plan  --email E --plan trial|basic|pro --reason TEXT
  keys create        --email E [--name N]      (prints the secret alone on the last line)
  identity show        --email E [--json]      (every identity of the account, each step)
  identity rerun       --email E --step STEP --reason TEXT   (a failed step, or Signal after its lockout)
  identity provision   --email E --reason TEXT (a fresh identity for a paid account without one)
  identity deprovision --email E --reason TEXT (take the live identity down now)

Environment: CONVEX_URL (default http://127.0.0.1:3210), CONVEX_ADMIN_KEY
(default: the offline runtime's <CONVEX_DATA_DIR or .data/convex>/admin_key).`;

export type Command =
  | { kind: "help" }
  | { kind: "accounts.create"; email: string; plan?: (typeof PLANS)[number]; role?: (typeof ROLES)[number] }
  | { kind: "accounts.show"; email: string; json: boolean }
  | { kind: "accounts.set-role"; email: string; role: (typeof ROLES)[number]; reason?: string }
  | { kind: "accounts.set-plan"; email: string; plan: (typeof PLANS)[number]; reason: string }
  | { kind: "keys.create"; email: string; name?: string }
  | { kind: "identity.show"; email: string; json: boolean }
  | { kind: "identity.rerun"; email: string; step: (typeof STEPS)[number]; reason: string }
  | { kind: "identity.provision"; email: string; reason: string }
  | { kind: "identity.deprovision"; email: string; reason: string };

function oneOf<T extends string>(flag: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UsageError(`--${flag} must be one of ${allowed.join(", ")} (got "${value}").`);
  }
  return value as T;
}

function required<T>(flag: string, value: T | undefined): T {
  if (value === undefined || value === "") throw new UsageError(`--${flag} is required.`);
  return value;
}

/** Parses argv (without node and script) into a command, or throws UsageError. */
export function parseCommand(argv: string[]): Command {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      email: { type: "string" },
      plan: { type: "string" },
      role: { type: "string" },
      step: { type: "string" },
      reason: { type: "string" },
      name: { type: "string" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help || positionals.length === 0) return { kind: "help" };
  const [group, action, ...rest] = positionals;
  if (rest.length > 0) throw new UsageError(`Unexpected argument "${rest[0]}".`);
  const email = () => required("email", values.email);
  switch (`${group} ${action}`) {
    case "accounts create":
      return {
        kind: "accounts.create",
        email: email(),
        plan: oneOf("plan", values.plan, PLANS),
        role: oneOf("role", values.role, ROLES),
      };
    case "accounts show":
      return { kind: "accounts.show", email: email(), json: values.json ?? false };
    case "accounts set-role":
      return {
        kind: "accounts.set-role",
        email: email(),
        role: required("role", oneOf("role", values.role, ROLES)),
        reason: values.reason,
      };
    case "accounts set-plan":
      return {
        kind: "accounts.set-plan",
        email: email(),
        plan: required("plan", oneOf("plan", values.plan, PLANS)),
        reason: required("reason", values.reason),
      };
    case "keys create":
      return { kind: "keys.create", email: email(), name: values.name };
    case "identity show":
      return { kind: "identity.show", email: email(), json: values.json ?? false };
    case "identity rerun":
      return {
        kind: "identity.rerun",
        email: email(),
        step: required("step", oneOf("step", values.step, STEPS)),
        reason: required("reason", values.reason),
      };
    case "identity provision":
      return { kind: "identity.provision", email: email(), reason: required("reason", values.reason) };
    case "identity deprovision":
      return { kind: "identity.deprovision", email: email(), reason: required("reason", values.reason) };
    default:
      throw new UsageError(`Unknown command "${positionals.join(" ")}".`);
  }
}

export function adminKey(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.CONVEX_ADMIN_KEY ?? env.CONVEX_DEPLOY_KEY;
  if (fromEnv) return fromEnv;
  const dataDir = env.CONVEX_DATA_DIR ?? path.join(process.cwd(), ".data/convex");
  const file = path.join(dataDir, "admin_key");
  try {
    return readFileSync(file, "utf8").trim();
  } catch {
    throw new UsageError(
      `No admin key: set CONVEX_ADMIN_KEY, or start the offline backend (npm run dev) so ${path.relative(process.cwd(), file)} exists.`,
    );
  }
}

/**
 * An internal function as the admin-authenticated client calls it: the HTTP client's typings
 * accept only public references, but with the admin key internal ones are reachable too.
 * Arguments and results keep the types the function declares.
 */
export function asAdmin<F extends FunctionReference<"query" | "mutation", "internal">>(
  fn: F,
): FunctionReference<F["_type"], "public", F["_args"], F["_returnType"]> {
  return fn as unknown as FunctionReference<F["_type"], "public", F["_args"], F["_returnType"]>;
}

const ref = {
  create: asAdmin(internal.cli.createAccount),
  show: asAdmin(internal.cli.showAccount),
  setRole: asAdmin(internal.cli.setAccountRole),
  setPlan: asAdmin(internal.cli.setAccountPlan),
  createKey: asAdmin(internal.cli.createApiKey),
  showIdentity: asAdmin(internal.cli.showIdentity),
  rerunIdentityStep: asAdmin(internal.cli.rerunIdentityStep),
  provisionIdentity: asAdmin(internal.cli.provisionIdentity),
  deprovisionIdentity: asAdmin(internal.cli.deprovisionIdentity),
};

const iso = (at: number | undefined) => (at === undefined ? "" : new Date(at).toISOString());

/** Runs a command; returns the lines to print on stdout. */
export async function run(cmd: Command, client: ConvexHttpClient): Promise<string[]> {
  switch (cmd.kind) {
    case "help":
      return [HELP];
    case "accounts.create": {
      const id = await client.mutation(ref.create, { email: cmd.email, plan: cmd.plan, role: cmd.role });
      return [`Created ${cmd.email} (${id}) on the ${cmd.plan ?? "trial"} plan.`];
    }
    case "accounts.show": {
      const a = await client.query(ref.show, { email: cmd.email });
      if (cmd.json) return [JSON.stringify(a, null, 2)];
      return [
        `${a.email}  ${a.role}  plan=${a.plan}  state=${a.state}${a.claimed ? "" : "  (not signed in yet)"}`,
        `keys: ${a.keys.length === 0 ? "none" : a.keys.map((k) => `${k.prefix}${k.revokedAt ? " (revoked)" : ""}`).join(", ")}`,
        ...a.audit.slice(0, 5).map(
          (e) => `  ${new Date(e.at).toISOString()}  ${e.actor}  ${e.action}${e.reason ? `  "${e.reason}"` : ""}`,
        ),
      ];
    }
    case "accounts.set-role":
      await client.mutation(ref.setRole, { email: cmd.email, role: cmd.role, reason: cmd.reason });
      return [`${cmd.email} is now ${cmd.role}.`];
    case "accounts.set-plan": {
      const r = await client.mutation(ref.setPlan, { email: cmd.email, plan: cmd.plan, reason: cmd.reason });
      return [`${cmd.email} is now on ${r.plan} (${r.state}).`];
    }
    case "keys.create": {
      const k = await client.mutation(ref.createKey, { email: cmd.email, name: cmd.name });
      // The secret alone on the last line so scripts can `| tail -1`.
      return [`Created key ${k.prefix}… for ${cmd.email}. It is shown once; store it now.`, k.secret];
    }
    case "identity.show": {
      const rows = await client.query(ref.showIdentity, { email: cmd.email });
      if (cmd.json) return [JSON.stringify(rows, null, 2)];
      if (rows.length === 0) return [`${cmd.email} has no identity.`];
      return rows.flatMap((r) => [
        `${r._id}  ${r.phase}  status=${r.status}${r.statusStep ? `@${r.statusStep}` : ""}  email=${r.emailAddress ?? "-"}  phone=${r.phoneNumber ?? "-"}  signal=${r.signalStatus}`,
        ...r.steps.map(
          (s) =>
            `  ${s.name.padEnd(18)} ${s.status.padEnd(8)} attempts=${s.attempts}${s.waitingFor ? ` waiting=${s.waitingFor}` : ""}${s.notBefore ? ` notBefore=${iso(s.notBefore)}` : ""}${s.lastError ? `  error: ${s.lastError}` : ""}`,
        ),
      ]);
    }
    case "identity.rerun": {
      const id = await client.mutation(ref.rerunIdentityStep, { email: cmd.email, step: cmd.step, reason: cmd.reason });
      return [`Re-running ${cmd.step} on identity ${id} of ${cmd.email}.`];
    }
    case "identity.provision": {
      const id = await client.mutation(ref.provisionIdentity, { email: cmd.email, reason: cmd.reason });
      return [`Provisioning identity ${id} for ${cmd.email}.`];
    }
    case "identity.deprovision": {
      const id = await client.mutation(ref.deprovisionIdentity, { email: cmd.email, reason: cmd.reason });
      return [`Deprovisioning identity ${id} of ${cmd.email}.`];
    }
  }
}

function messageOf(e: unknown): string {
  const data = (e as { data?: { message?: string } }).data;
  if (data?.message) return data.message;
  const msg = e instanceof Error ? e.message : String(e);
  if (/fetch failed|ECONNREFUSED/.test(msg)) {
    return `Cannot reach the deployment at ${process.env.CONVEX_URL ?? "http://127.0.0.1:3210"}: is npm run dev running?`;
  }
  return msg;
}

async function main() {
  let cmd: Command;
  try {
    cmd = parseCommand(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${HELP}\n`);
    process.exit(2);
  }
  try {
    const client = new ConvexHttpClient(process.env.CONVEX_URL ?? "http://127.0.0.1:3210");
    if (cmd.kind !== "help") {
      // Not in the public typings, but the supported way the Convex CLI authenticates as admin.
      (client as unknown as { setAdminAuth(key: string): void }).setAdminAuth(adminKey());
    }
    for (const line of await run(cmd, client)) process.stdout.write(`${line}\n`);
  } catch (e) {
    process.stderr.write(`error: ${messageOf(e)}\n`);
    process.exit(1);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  void main();
}

// The reference Dex CLI: `npm run dex -- <command>`. Connects this machine's instance to
// Poindexter Cloud and calls the Dex API with the stored tokens. Exit codes: 0 done, 1 the API
// or the network failed, 2 bad usage, 3 not connected (connect first), 4 connecting failed.
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { DexClient, type Identity, type IdentityStatus } from "./api";
import { DexApiError, NotConnectedError, OAuthError, TokenStoreError } from "./errors";
import { connect, connectDevice, DEFAULT_SCOPE, disconnect, INSTANCE_ID, newInstanceId } from "./oauth";
import { defaultStore } from "./tokenStore";

export const EXIT = { ok: 0, api: 1, usage: 2, notConnected: 3, connect: 4 } as const;

const USAGE = `Usage: npm run dex -- <command> [options]

  connect [--device] [--no-open] [--scope "identity email ..."]
                                  connect this instance (browser, or a code with --device)
  identity                        the email address, phone number and Signal status
  status                          each provisioning step
  email send --to A [--to B] --subject S --body TEXT
  inbox [--limit N]               newest mail first
  signal send --to +E164 [--to ...] --message TEXT
  signal messages [--limit N]     Signal messages received
  sms [--limit N]                 SMS received on the identity's number
  usage                           this month's usage and what is left
  disconnect                      revoke this instance's tokens and forget them

Options: --url SITE_URL (or DEX_CLOUD_URL; needed to connect), --instance dex-... (or
DEX_INSTANCE_ID; default: made once and kept in DEX_HOME), --json (machine-readable output).
DEX_HOME (default ~/.config/poindexter-dex) holds tokens.enc, sealed with token.key there or with
DEX_TOKEN_PASSPHRASE when it is set.`;

class UsageError extends Error {}

export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
  env: NodeJS.ProcessEnv;
}

function homeOf(env: NodeJS.ProcessEnv): string {
  return env.DEX_HOME ?? path.join(os.homedir(), ".config", "poindexter-dex");
}

/** The instance id: given, or made once and kept beside the tokens. */
function instanceIdOf(given: string | undefined, home: string): string {
  if (given !== undefined) {
    if (!INSTANCE_ID.test(given)) throw new UsageError(`--instance must be dex- and 4 to 32 lowercase letters or digits, not ${given}.`);
    return given;
  }
  const file = path.join(home, "instance-id");
  try {
    const kept = readFileSync(file, "utf8").trim();
    if (INSTANCE_ID.test(kept)) return kept;
  } catch {
    // First run: make one below.
  }
  const id = newInstanceId();
  mkdirSync(home, { recursive: true, mode: 0o700 });
  writeFileSync(file, id + "\n", { mode: 0o600 });
  return id;
}

function openBrowser(url: string): void {
  const [cmd, args] =
    process.platform === "darwin" ? ["open", [url]] : process.platform === "win32" ? ["cmd", ["/c", "start", "", url]] : ["xdg-open", [url]];
  try {
    const child = spawn(cmd, args, { stdio: "ignore", detached: true });
    child.on("error", () => undefined);
    child.unref();
  } catch {
    // No opener on this machine: the URL is printed anyway.
  }
}

function identityLines(id: Identity): string[] {
  return [
    `Identity: ${id.status}`,
    `Email:    ${id.email?.address ?? (id.features.email ? "(not yet)" : "(not in plan)")}`,
    `Phone:    ${id.phone?.number ?? (id.features.phone ? "(not yet)" : "(not in plan)")}`,
    `Signal:   ${id.signal?.status ?? (id.features.signal ? "(not yet)" : "(not in plan)")}`,
  ];
}

function statusLines(s: IdentityStatus): string[] {
  const lines = [`Identity: ${s.status} (${s.phase})`];
  for (const step of s.steps) {
    const extra = step.error ? `: ${step.error}` : step.waiting_for ? `: waiting for ${step.waiting_for}` : "";
    lines.push(`  ${step.status.padEnd(8)} ${step.label}${extra}`);
  }
  if (s.action) lines.push(`Needs you on the dashboard: ${s.action.kind}`);
  return lines;
}

function many(v: string | boolean | (string | boolean)[] | undefined): string[] {
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}

function need(v: string | boolean | (string | boolean)[] | undefined, flag: string): string {
  const s = many(v)[0];
  if (!s) throw new UsageError(`${flag} is required.`);
  return s;
}

function limitOf(v: string | boolean | (string | boolean)[] | undefined): number | undefined {
  const s = many(v)[0];
  if (s === undefined) return undefined;
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1) throw new UsageError("--limit must be a positive whole number.");
  return n;
}

export async function main(argv: string[], io: Io): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        url: { type: "string" },
        instance: { type: "string" },
        json: { type: "boolean" },
        device: { type: "boolean" },
        "no-open": { type: "boolean" },
        scope: { type: "string" },
        to: { type: "string", multiple: true },
        subject: { type: "string" },
        body: { type: "string" },
        message: { type: "string" },
        limit: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (e) {
    io.err((e as Error).message);
    io.err(USAGE);
    return EXIT.usage;
  }
  const { values: o, positionals } = parsed;
  const [command, sub] = positionals;
  if (o.help || command === undefined) {
    (o.help ? io.out : io.err)(USAGE);
    return o.help ? EXIT.ok : EXIT.usage;
  }
  const home = homeOf(io.env);
  const print = (value: unknown, lines: () => string[]) => {
    if (o.json) io.out(JSON.stringify(value, null, 2));
    else for (const line of lines()) io.out(line);
  };
  try {
    const store = defaultStore(home, io.env);
    const client = new DexClient({ store });
    switch (command) {
      case "connect": {
        const issuer = o.url ?? io.env.DEX_CLOUD_URL;
        if (!issuer) throw new UsageError("Say which Poindexter Cloud to connect to: --url https://<deployment>.convex.site (or DEX_CLOUD_URL).");
        const clientId = instanceIdOf(o.instance ?? io.env.DEX_INSTANCE_ID, home);
        const scope = o.scope ?? DEFAULT_SCOPE;
        const tokens = o.device
          ? await connectDevice({
              issuer,
              clientId,
              store,
              scope,
              onCode: ({ userCode, verificationUri, verificationUriComplete }) => {
                io.out(`To connect ${clientId}, open ${verificationUri} and enter the code ${userCode}`);
                if (verificationUriComplete) io.out(`(or open ${verificationUriComplete})`);
                io.out("Waiting for approval...");
              },
            })
          : await connect({
              issuer,
              clientId,
              store,
              scope,
              onUrl: (url) => {
                io.out(`Open this link to connect ${clientId} to Poindexter Cloud:`);
                io.out(url);
                io.out("Waiting for the browser...");
                if (!o["no-open"]) openBrowser(url);
              },
            });
        if (o.json) {
          io.out(JSON.stringify({ connected: true, instance: tokens.clientId, issuer: tokens.issuer, scope: tokens.scope }));
          return EXIT.ok;
        }
        io.out(`Connected ${tokens.clientId} to ${tokens.issuer} (${tokens.scope}).`);
        if (tokens.scope.split(" ").includes("identity")) {
          try {
            for (const line of identityLines(await client.identity())) io.out(line);
          } catch (e) {
            if (!(e instanceof DexApiError)) throw e;
            io.out(`Identity: not available yet (${e.message})`);
          }
        }
        return EXIT.ok;
      }
      case "identity": {
        const id = await client.identity();
        print(id, () => identityLines(id));
        return EXIT.ok;
      }
      case "status": {
        const s = await client.identityStatus();
        print(s, () => statusLines(s));
        return EXIT.ok;
      }
      case "email": {
        if (sub !== "send") throw new UsageError("email: the command is `email send --to ADDRESS --subject S --body TEXT`.");
        const to = many(o.to);
        if (to.length === 0) throw new UsageError("--to is required.");
        const sent = await client.sendEmail({ to, subject: need(o.subject, "--subject"), text: need(o.body, "--body") });
        print(sent, () => [`Sent from ${sent.from} (message ${sent.id}).`]);
        return EXIT.ok;
      }
      case "inbox": {
        const page = await client.inbox({ limit: limitOf(o.limit) });
        print(page, () =>
          page.data.length === 0 ? ["The inbox is empty."] : page.data.map((m) => `${m.unread ? "*" : " "} ${new Date(m.received_at).toISOString()}  ${m.from}  ${m.subject}  [${m.id}]`),
        );
        return EXIT.ok;
      }
      case "signal": {
        if (sub === "send") {
          const recipients = many(o.to);
          if (recipients.length === 0) throw new UsageError("--to is required (an E.164 number such as +12025550100).");
          const sent = await client.sendSignal({ recipients, message: need(o.message, "--message") });
          print(sent, () => [`Sent on Signal to ${sent.recipients.join(", ")}.`]);
          return EXIT.ok;
        }
        if (sub === "messages") {
          const page = await client.signalMessages({ limit: limitOf(o.limit) });
          print(page, () => (page.data.length === 0 ? ["No Signal messages."] : page.data.map((m) => `${new Date(m.received_at).toISOString()}  ${m.source}: ${m.message}`)));
          return EXIT.ok;
        }
        throw new UsageError("signal: the commands are `signal send --to +E164 --message TEXT` and `signal messages`.");
      }
      case "sms": {
        const page = await client.smsMessages({ limit: limitOf(o.limit) });
        print(page, () => (page.data.length === 0 ? ["No SMS received."] : page.data.map((m) => `${new Date(m.received_at).toISOString()}  ${m.from}: ${m.text}`)));
        return EXIT.ok;
      }
      case "usage": {
        const [usage, left] = await Promise.all([client.usage(), client.remaining()]);
        print({ usage, remaining: left }, () => [
          `${usage.month}, ${usage.plan} plan`,
          `Tokens used: ${left.usedTokens.toLocaleString("en-US")} of ${left.includedTokens.toLocaleString("en-US")} included (${left.remainingIncluded.toLocaleString("en-US")} left)`,
          `Until the hard cap: ${left.remainingTokens.toLocaleString("en-US")}; resets ${new Date(left.resetsAt).toISOString()}`,
          ...usage.models.map((m) => `  ${m.model}: ${m.requests} requests`),
        ]);
        return EXIT.ok;
      }
      case "disconnect": {
        const was = await disconnect(store);
        io.out(was ? "Disconnected: the tokens are revoked and forgotten." : "Not connected: nothing to do.");
        return EXIT.ok;
      }
      default:
        throw new UsageError(`Unknown command ${command}.`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(e.message);
      io.err(USAGE);
      return EXIT.usage;
    }
    if (e instanceof NotConnectedError) {
      io.err(e.message);
      return EXIT.notConnected;
    }
    if (e instanceof TokenStoreError) {
      io.err(`Token store: ${e.message}`);
      return EXIT.notConnected;
    }
    if (e instanceof OAuthError) {
      io.err(`Connecting failed (${e.code}): ${e.message}`);
      return EXIT.connect;
    }
    if (e instanceof DexApiError) {
      io.err(`Error ${e.status} ${e.code}: ${e.message}`);
      return EXIT.api;
    }
    io.err(`Error: ${(e as Error).message}`);
    return EXIT.api;
  }
}

// Run as a script (`tsx client/cli.ts`), not when imported by a test.
if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  main(process.argv.slice(2), { out: (l) => console.log(l), err: (l) => console.error(l), env: process.env }).then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(e);
      process.exit(EXIT.api);
    },
  );
}

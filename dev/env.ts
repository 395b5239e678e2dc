// Zero-configuration defaults for local development: secrets the app needs are
// generated once into the data dir and reused, so `npm run dev` just works and a
// restart keeps sessions and encrypted data readable.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { centsPerTokenDecimal } from "../convex/model/billing/overage.ts";
import { PLANS } from "../convex/model/plans.ts";
import { telnyxPublicKey } from "./simulator/telnyx.ts";

export const DEFAULT_PORTS = { convex: 3210, site: 3211, simulator: 3220, vite: 5173 };

/** KEY=value lines of a dotenv file. Empty values count as unset (the example file has many). */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const m = line.match(/^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/);
    if (!m) continue;
    let value = m[2].trim();
    if ((value.startsWith('"') && value.endsWith('"')) || (value.startsWith("'") && value.endsWith("'"))) {
      value = value.slice(1, -1);
    } else {
      value = value.replace(/\s+#.*$/, "");
    }
    if (value !== "") out[m[1]] = value;
  }
  return out;
}

/** .env.local of the working directory, if present. */
export function readEnvLocal(file = path.resolve(".env.local")): Record<string, string> {
  return existsSync(file) ? parseEnvFile(readFileSync(file, "utf8")) : {};
}

/** A setting from the shell, else .env.local (empty values count as unset). */
export function setting(name: string, envLocal: Record<string, string> = readEnvLocal()): string | undefined {
  const fromShell = process.env[name];
  return fromShell !== undefined && fromShell !== "" ? fromShell : envLocal[name];
}

function once(file: string, make: () => string): string {
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  // Trimmed like the read above, so the first run and every later one agree (a PEM ends in "\n").
  const value = make().trim();
  writeFileSync(file, `${value}\n`, { mode: 0o600 });
  return value;
}

/** RSA private JWK for the dev sign-in issuer (convex/devAuth.ts). */
export function devAuthJwk(dataDir: string): string {
  return once(path.join(dataDir, "dev_auth_key.json"), () => {
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const jwk = privateKey.export({ format: "jwk" });
    return JSON.stringify({ ...jwk, kid: `dev-${randomBytes(4).toString("hex")}`, alg: "RS256" });
  });
}

/**
 * The Workspace service account's key in development (PKCS#8 PEM, made once per data dir). The
 * simulator's token endpoint accepts assertions from service accounts it did not issue without
 * checking their signature, so any RS256 key works offline; with real Google this is the key
 * file's `private_key`.
 */
export function devGoogleServiceAccountKey(dataDir: string): string {
  return once(path.join(dataDir, "google_service_account.pem"), () => {
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    return privateKey.export({ format: "pem", type: "pkcs8" }).toString();
  });
}

/** The identity providers in development: Workspace, Telnyx and signal-cli, all the simulator. */
export const DEV_IDENTITY = {
  serviceAccountEmail: "dex-provisioner@poindexter-dev.iam.gserviceaccount.com",
  adminEmail: "admin@dex.poindexter.test",
  workspaceDomain: "dex.poindexter.test",
  telnyxApiKey: "KEY_sim_dev",
  messagingProfileId: "mp_sim_dev",
} as const;

/** The dashboard's URL in development: Vite on VITE_PORT (what dev/dev.ts starts it on). */
export function devAppUrl(envLocal: Record<string, string> = readEnvLocal()): string {
  return `http://127.0.0.1:${setting("VITE_PORT", envLocal) ?? DEFAULT_PORTS.vite}`;
}

/**
 * The plans' price (Stripe) and product (Polar) ids in development. Whoever starts the simulator
 * for the app can price them with its `stripe.priceAmounts` / `polar.priceAmounts` knobs
 * ($50 and $250: 5000 and 25000 cents) and point its webhooks at the app (`connectWebhooks`).
 */
export const DEV_BILLING_PRICES = {
  stripe: { basic: "price_basic_dev", pro: "price_pro_dev" },
  polar: { basic: "0b9f7c2e-1d3a-4c5b-8e6f-7a8b9c0d1e2f", pro: "1c0a8d3f-2e4b-4d6c-9f70-8b9cad0e1f30" },
} as const;

/** The metered Stripe prices of each plan's overage meters, and the meter event names they bill. */
export const DEV_OVERAGE = {
  events: { input: "poindexter_input_tokens", output: "poindexter_output_tokens" },
  stripePrices: {
    basic: { input: "price_basic_overage_input_dev", output: "price_basic_overage_output_dev" },
    pro: { input: "price_pro_overage_input_dev", output: "price_pro_overage_output_dev" },
  },
} as const;

/** The simulator's `stripe.meteredPrices`: each plan's overage prices from model/plans.ts, per token. */
export function devMeteredPrices(): Record<string, { eventName: string; unitAmountDecimal: string }> {
  const out: Record<string, { eventName: string; unitAmountDecimal: string }> = {};
  for (const plan of ["basic", "pro"] as const) {
    const overage = PLANS[plan].overage!;
    const prices = DEV_OVERAGE.stripePrices[plan];
    out[prices.input] = { eventName: DEV_OVERAGE.events.input, unitAmountDecimal: centsPerTokenDecimal(overage.inputMicrosPerMillion) };
    out[prices.output] = { eventName: DEV_OVERAGE.events.output, unitAmountDecimal: centsPerTokenDecimal(overage.outputMicrosPerMillion) };
  }
  return out;
}

/**
 * The simulator settings `npm run dev` and the browser tests start with: the plans priced as
 * model/plans.ts says (cents), and Stripe's, Polar's and Telnyx's webhooks (inbound SMS: Signal's
 * codes) sent to the app's site URL.
 */
export function devSimulatorBilling(siteUrl: string) {
  const site = siteUrl.replace(/\/+$/, "");
  return {
    stripe: {
      webhookUrl: `${site}/webhooks/stripe`,
      priceAmounts: { [DEV_BILLING_PRICES.stripe.basic]: 5_000, [DEV_BILLING_PRICES.stripe.pro]: 25_000 },
      // Overage: the metered items checkout adds, billed from the meter events the app reports.
      meteredPrices: devMeteredPrices(),
    },
    polar: {
      webhookUrl: `${site}/webhooks/polar`,
      priceAmounts: { [DEV_BILLING_PRICES.polar.basic]: 5_000, [DEV_BILLING_PRICES.polar.pro]: 25_000 },
    },
    telnyx: { webhookUrl: `${site}/webhooks/telnyx` },
  };
}

/**
 * The AI providers' base URLs and keys pointed at the simulator, which speaks OpenAI under /v1,
 * Anthropic's Messages API at /v1/messages, Gemini's OpenAI-compatible endpoint under
 * /v1beta/openai and ElevenLabs at /v1/text-to-speech. `tag` names the keys (dev, test...).
 */
export function devAiProviderEnv(simulatorUrl: string, tag: string): Record<string, string> {
  return {
    OPENAI_BASE_URL: `${simulatorUrl}/v1`,
    OPENAI_API_KEY: `sk-sim-${tag}`,
    ANTHROPIC_BASE_URL: simulatorUrl,
    ANTHROPIC_API_KEY: `sk-ant-sim-${tag}`,
    GEMINI_BASE_URL: `${simulatorUrl}/v1beta/openai`,
    GEMINI_API_KEY: `gemini-sim-${tag}`,
    ELEVENLABS_BASE_URL: simulatorUrl,
    ELEVENLABS_API_KEY: `xi-sim-${tag}`,
  };
}

/** The env the functions get in development, unless .env.local or the shell overrides it. */
export function devEnv(
  dataDir: string,
  simulatorUrl = `http://127.0.0.1:${DEFAULT_PORTS.simulator}`,
  appUrl = devAppUrl(),
): Record<string, string> {
  mkdirSync(dataDir, { recursive: true });
  return {
    DEV_AUTH: "true",
    DEV_AUTH_PRIVATE_JWK: devAuthJwk(dataDir),
    ENCRYPTION_KEY: once(path.join(dataDir, "encryption_key"), () => randomBytes(32).toString("base64")),
    ...devAiProviderEnv(simulatorUrl, "dev"),
    // The simulator's Resend-format API at its root (POST /emails); it captures every mail.
    EMAIL_BASE_URL: simulatorUrl,
    EMAIL_API_KEY: "re_sim_dev",
    APP_URL: appUrl,
    // Billing against the simulator's Stripe and Polar (its default webhook secrets; the plan
    // price ids are any ids the simulator accepts, Polar's must be UUIDs).
    STRIPE_BASE_URL: simulatorUrl,
    STRIPE_SECRET_KEY: "sk_test_sim_dev",
    STRIPE_WEBHOOK_SECRET: "whsec_simulator_stripe",
    STRIPE_PRICE_BASIC: DEV_BILLING_PRICES.stripe.basic,
    STRIPE_PRICE_PRO: DEV_BILLING_PRICES.stripe.pro,
    STRIPE_PRICE_BASIC_OVERAGE_INPUT: DEV_OVERAGE.stripePrices.basic.input,
    STRIPE_PRICE_BASIC_OVERAGE_OUTPUT: DEV_OVERAGE.stripePrices.basic.output,
    STRIPE_PRICE_PRO_OVERAGE_INPUT: DEV_OVERAGE.stripePrices.pro.input,
    STRIPE_PRICE_PRO_OVERAGE_OUTPUT: DEV_OVERAGE.stripePrices.pro.output,
    STRIPE_METER_EVENT_INPUT: DEV_OVERAGE.events.input,
    STRIPE_METER_EVENT_OUTPUT: DEV_OVERAGE.events.output,
    POLAR_BASE_URL: simulatorUrl,
    POLAR_ACCESS_TOKEN: "polar_oat_sim_dev",
    POLAR_WEBHOOK_SECRET: "polar_whs_simulator",
    POLAR_PRODUCT_BASIC: DEV_BILLING_PRICES.polar.basic,
    POLAR_PRODUCT_PRO: DEV_BILLING_PRICES.polar.pro,
    POLAR_METER_EVENT_INPUT: DEV_OVERAGE.events.input,
    POLAR_METER_EVENT_OUTPUT: DEV_OVERAGE.events.output,
    // Identity provisioning against the simulator's Google, Telnyx and signal-cli (its fixed
    // Telnyx signing key, so inbound SMS verify).
    GOOGLE_BASE_URL: simulatorUrl,
    GOOGLE_SERVICE_ACCOUNT_EMAIL: DEV_IDENTITY.serviceAccountEmail,
    GOOGLE_SERVICE_ACCOUNT_PRIVATE_KEY: devGoogleServiceAccountKey(dataDir),
    GOOGLE_ADMIN_EMAIL: DEV_IDENTITY.adminEmail,
    WORKSPACE_DOMAIN: DEV_IDENTITY.workspaceDomain,
    TELNYX_BASE_URL: simulatorUrl,
    TELNYX_API_KEY: DEV_IDENTITY.telnyxApiKey,
    TELNYX_MESSAGING_PROFILE_ID: DEV_IDENTITY.messagingProfileId,
    TELNYX_PUBLIC_KEY: telnyxPublicKey(),
    SIGNAL_CLI_URL: simulatorUrl,
  };
}

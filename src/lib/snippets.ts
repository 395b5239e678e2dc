// What a customer pastes: the proxy's base URL and short examples that call it. Pure, so the
// onboarding screen and the dashboard's setup guide show exactly the same text.
import { CONVEX_SITE_URL } from "../config";

/** The environment variable the examples read the key from, so no secret ends up in code. */
export const KEY_VARIABLE = "POINDEXTER_API_KEY";

/** The OpenAI-compatible base URL of this deployment: `<site URL>/v1`. */
export function proxyBaseUrl(siteUrl: string = CONVEX_SITE_URL): string {
  return `${siteUrl.replace(/\/+$/, "")}/v1`;
}

/** A model every plan includes (the trial's list is the shortest). */
export const SAMPLE_MODEL = "gpt-4o-mini";

export function sdkSnippet(baseUrl: string): string {
  return [
    `import OpenAI from "openai";`,
    ``,
    `const client = new OpenAI({`,
    `  apiKey: process.env.${KEY_VARIABLE},`,
    `  baseURL: "${baseUrl}",`,
    `});`,
    ``,
    `const reply = await client.chat.completions.create({`,
    `  model: "${SAMPLE_MODEL}",`,
    `  messages: [{ role: "user", content: "Hello from Dex" }],`,
    `});`,
    `console.log(reply.choices[0].message.content);`,
  ].join("\n");
}

export function curlSnippet(baseUrl: string): string {
  return [
    `curl ${baseUrl}/chat/completions \\`,
    `  -H "Authorization: Bearer $${KEY_VARIABLE}" \\`,
    `  -H "Content-Type: application/json" \\`,
    `  -d '{"model": "${SAMPLE_MODEL}", "messages": [{"role": "user", "content": "Hello from Dex"}]}'`,
  ].join("\n");
}

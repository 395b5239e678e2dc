import { describe, expect, it } from "vitest";
import { curlSnippet, proxyBaseUrl, sdkSnippet } from "./snippets";

describe("snippets", () => {
  it("the base URL is the site URL's /v1, whatever trailing slashes it has", () => {
    expect(proxyBaseUrl("https://happy-otter-123.convex.site")).toBe("https://happy-otter-123.convex.site/v1");
    expect(proxyBaseUrl("http://127.0.0.1:3211//")).toBe("http://127.0.0.1:3211/v1");
  });

  it("the examples call the given base URL and read the key from the environment", () => {
    const base = "https://example.convex.site/v1";
    const sdk = sdkSnippet(base);
    expect(sdk).toContain(`baseURL: "${base}"`);
    expect(sdk).toContain("apiKey: process.env.POINDEXTER_API_KEY");
    const curl = curlSnippet(base);
    expect(curl.split("\n")[0]).toBe(`curl ${base}/chat/completions \\`);
    expect(curl).toContain('-H "Authorization: Bearer $POINDEXTER_API_KEY"');
    // The JSON body is valid JSON once the shell quotes are removed.
    const body = curl.match(/-d '(.*)'$/)?.[1];
    expect(JSON.parse(body ?? "")).toMatchObject({ model: "gpt-4o-mini" });
  });
});

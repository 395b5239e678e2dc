import { describe, expect, test } from "vitest";
import { escapeHtml, formatCount, formatTokens, renderEmail, type MailFacts } from "./templates";

const facts = (over: Partial<MailFacts> = {}): MailFacts => ({
  appUrl: "https://app.test",
  apiBaseUrl: "https://site.test/v1",
  email: "ada@example.com",
  plan: "trial",
  trialEndsAt: Date.UTC(2026, 10, 24),
  keyPrefix: "pk_live_AbCd1234",
  usage: { requests: 0, tokens: 0 },
  unsubscribeUrl: "https://site.test/email/unsubscribe?token=abc.def",
  ...over,
});

const both = (m: { html: string; text: string }) => [m.html, m.text];

describe("welcome", () => {
  test("carries the key's prefix, the dashboard and keys links and the base URL, in html and text", () => {
    const mail = renderEmail("welcome", "transactional", facts({ unsubscribeUrl: null }));
    expect(mail.subject).toBe("Welcome to Poindexter: your API key is ready");
    for (const body of both(mail)) {
      expect(body).toContain("pk_live_AbCd1234");
      expect(body).toContain("https://app.test/keys");
      expect(body).toContain("https://app.test/");
      expect(body).toContain("https://site.test/v1");
      expect(body).toContain("500K tokens, until November 24, 2026");
      expect(body).not.toMatch(/unsubscribe/i);
    }
    expect(mail.html).toMatch(/^<!doctype html>/);
    expect(mail.html).toContain('<a href="https://app.test/keys">Keys page</a>');
    expect(mail.text).toContain("Keys page (https://app.test/keys)");
    expect(mail.text).not.toMatch(/<[a-z]/);
  });

  test("without a live key it says where to create one", () => {
    const mail = renderEmail("welcome", "transactional", facts({ keyPrefix: null }));
    expect(mail.text).toContain("Create an API key on the Keys page (https://app.test/keys)");
  });
});

describe("follow-ups", () => {
  test.each(["followup_24h", "followup_72h", "followup_1w"] as const)("%s: setup steps before the first request", (template) => {
    const mail = renderEmail(template, "marketing", facts());
    expect(mail.text).toContain("set the base URL to https://site.test/v1 and paste the key");
    expect(mail.text).toContain("pk_live_AbCd1234");
    expect(mail.text).not.toContain("So far Dex has made");
    expect(mail.html).toContain('<a href="https://site.test/email/unsubscribe?token=abc.def">Unsubscribe</a>');
    expect(mail.text).toContain("Unsubscribe (https://site.test/email/unsubscribe?token=abc.def) from these; receipts and alerts still arrive.");
  });

  test.each(["followup_24h", "followup_72h", "followup_1w"] as const)("%s: usage and what the paid plans add after it", (template) => {
    const mail = renderEmail(template, "marketing", facts({ usage: { requests: 1_234, tokens: 5_678_901 } }));
    for (const body of both(mail)) {
      expect(body).toContain("1,234 requests");
      expect(body).toContain("5,678,901 tokens");
      expect(body).toContain("Basic, $50/month");
      expect(body).toContain("Pro, $250/month");
      expect(body).toContain("an email address, a calendar, a phone number for SMS, Signal");
      expect(body).not.toContain("set the base URL");
    }
  });

  test("the three follow-ups differ from each other", () => {
    for (const usage of [{ requests: 0, tokens: 0 }, { requests: 3, tokens: 10 }]) {
      const subjects = (["followup_24h", "followup_72h", "followup_1w"] as const).map((x) => renderEmail(x, "marketing", facts({ usage })).subject);
      expect(new Set(subjects).size).toBe(3);
    }
  });

  test("one request reads as singular; a paid account is offered only the plans above it", () => {
    const basic = renderEmail("followup_72h", "marketing", facts({ plan: "basic", usage: { requests: 1, tokens: 42 } }));
    expect(basic.text).toContain("1 request through");
    expect(basic.text).toContain("You are on the Basic plan");
    expect(basic.text).toContain("Pro, $250/month");
    expect(basic.text).not.toContain("Basic, $50/month");
    const pro = renderEmail("followup_72h", "marketing", facts({ plan: "pro", usage: { requests: 2, tokens: 42 } }));
    expect(pro.text).not.toContain("What the paid plans add");
  });

  test("marketing mail is never rendered without its unsubscribe link", () => {
    expect(() => renderEmail("followup_24h", "marketing", facts({ unsubscribeUrl: null }))).toThrow(/unsubscribe/);
  });
});

describe("escaping", () => {
  test("user-provided values cannot inject markup into the html", () => {
    const mail = renderEmail("welcome", "transactional", facts({ email: '"><script>alert(1)</script>@example.com', keyPrefix: "<b>pk</b>" }));
    expect(mail.html).not.toContain("<script>");
    expect(mail.html).not.toContain("<b>pk</b>");
    expect(mail.html).toContain("&lt;script&gt;");
    expect(mail.html).toContain("&quot;&gt;");
    // The text version is plain text: shown as typed.
    expect(mail.text).toContain("<script>");
  });

  test("escapeHtml and the number formats", () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe("&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    expect(formatCount(0)).toBe("0");
    expect(formatCount(1234567)).toBe("1,234,567");
    expect(formatTokens(500_000)).toBe("500K");
    expect(formatTokens(2_500_000)).toBe("2.5M");
    expect(formatTokens(30_000_000)).toBe("30M");
  });
});

import { useEffect, useRef } from "react";
import { useViewer } from "./ViewerContext";
import { SecretReveal } from "../components/SecretReveal";
import { CodeBlock, CopyField } from "../components/CodeBlock";
import { planFor } from "../lib/plans";
import { formatDate, formatTokens } from "../lib/format";
import { KEY_VARIABLE, proxyBaseUrl, sdkSnippet } from "../lib/snippets";
import type { FirstKey } from "../lib/signup";
import { Brand } from "../components/Brand";

/**
 * The screen right after signup: the first API key's secret (shown here and nowhere else),
 * the base URL to paste into Dex and a few lines that call it. Leaving it drops the secret.
 */
export function OnboardingScreen({ firstKey, onContinue }: { firstKey: FirstKey; onContinue: () => void }) {
  const viewer = useViewer();
  const plan = planFor(viewer.plan);
  const baseUrl = proxyBaseUrl();
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    document.title = "Your account is ready · Poindexter Cloud";
    heading.current?.focus();
  }, []);

  return (
    <main className="auth-screen">
      <section className="card auth-card onboarding" aria-labelledby="onboarding-title" data-testid="onboarding">
        <Brand large />
        <h1 id="onboarding-title" ref={heading} tabIndex={-1}>
          Your account is ready
        </h1>
        <p className="onboarding-lead" data-testid="onboarding-lead">
          Your free trial has started
          {plan !== undefined && <>: {formatTokens(plan.includedTokens)}</>}
          {viewer.trialEndsAt !== undefined && <> until {formatDate(viewer.trialEndsAt)}</>}. The API key below{" "}
          <strong>works right away</strong>: paste it into Dex and your assistant can make its first request now.
        </p>
        <p className="muted small">Signed in as {viewer.email}</p>

        <ol className="onboarding-steps">
          <li>
            <h2>Copy your API key</h2>
            <SecretReveal secret={firstKey.secret} />
            <p className="field-hint">
              After this screen it shows only as <code>{firstKey.prefix}…</code> on the API keys page.
            </p>
          </li>
          <li>
            <h2>Paste it into Dex</h2>
            <p>In your Dex instance&apos;s settings, use Poindexter as its OpenAI-compatible provider:</p>
            <CopyField label="Base URL" value={baseUrl} testId="onboarding-base-url" />
            <div className="copy-field">
              <span className="copy-field-label">API key</span>
              <span className="muted">the key above</span>
            </div>
          </li>
          <li>
            <h2>Or call it from code</h2>
            <p>
              Any OpenAI client works. With the <code>openai</code> package and <code>{KEY_VARIABLE}</code> set to
              your key:
            </p>
            <CodeBlock code={sdkSnippet(baseUrl)} label="JavaScript" testId="onboarding-snippet" />
          </li>
        </ol>

        <div className="onboarding-footer">
          <p className="muted small">The secret is not shown again once you continue.</p>
          <button type="button" className="button button-primary" onClick={onContinue}>
            I&apos;ve saved it, continue
          </button>
        </div>
      </section>
    </main>
  );
}

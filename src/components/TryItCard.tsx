import { useMemo, useState, type FormEvent } from "react";
import { useAuthMethod } from "../auth/AuthMethodContext";
import { CONVEX_SITE_URL } from "../config";
import { PLANS } from "../../convex/model/plans";
import { endpointOf, isPriced } from "../../convex/model/pricing";
import { SessionTokenClient, SessionTokenError } from "../lib/sessionToken";
import { formatTokens } from "../lib/format";
import { useViewer } from "../viewer/ViewerContext";
import { Card } from "./Card";

interface Answer {
  text: string;
  model: string;
  promptTokens: number;
  completionTokens: number;
}

/**
 * A prompt box that calls the AI proxy from the browser, as any client would, with a
 * 15-minute session token (POST /api/session, src/lib/sessionToken.ts) instead of an API key.
 * The request is metered like any other: the usage meter moves once it settles.
 */
export function TryItCard() {
  const viewer = useViewer();
  const auth = useAuthMethod();
  const session = useMemo(
    () => new SessionTokenClient({ siteUrl: CONVEX_SITE_URL, getJwt: async () => (auth.getToken ? await auth.getToken() : null) }),
    [auth],
  );
  const models = PLANS[viewer.plan].models.filter((m) => isPriced(m) && endpointOf(m) === "chat");
  const [model, setModel] = useState(models[0] ?? "gpt-4o-mini");
  const [prompt, setPrompt] = useState("");
  const [pending, setPending] = useState(false);
  const [answer, setAnswer] = useState<Answer | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    const text = prompt.trim();
    if (!text) {
      setError("Type a prompt first.");
      return;
    }
    setPending(true);
    setError(null);
    try {
      const res = await session.fetch("/v1/chat/completions", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model, messages: [{ role: "user", content: text }], max_tokens: 256 }),
      });
      const body = (await res.json().catch(() => null)) as {
        choices?: Array<{ message?: { content?: string } }>;
        usage?: { prompt_tokens?: number; completion_tokens?: number };
        model?: string;
        error?: { message?: string };
      } | null;
      if (!res.ok) {
        setError(body?.error?.message ?? `The proxy answered HTTP ${res.status}.`);
        return;
      }
      setAnswer({
        text: body?.choices?.[0]?.message?.content ?? "",
        model: body?.model ?? model,
        promptTokens: body?.usage?.prompt_tokens ?? 0,
        completionTokens: body?.usage?.completion_tokens ?? 0,
      });
    } catch (err) {
      setError(err instanceof SessionTokenError ? err.message : `The request failed: ${(err as Error).message}`);
    } finally {
      setPending(false);
    }
  }

  return (
    <Card title="Try it" testId="try-it">
      <form onSubmit={onSubmit} aria-label="Try a prompt">
        <div className="field">
          <label htmlFor="try-model">Model</label>
          <select id="try-model" value={model} onChange={(e) => setModel(e.target.value)}>
            {models.map((m) => (
              <option key={m} value={m}>
                {m}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="try-prompt">Prompt</label>
          <textarea id="try-prompt" rows={3} maxLength={4000} value={prompt} onChange={(e) => setPrompt(e.target.value)} placeholder="Ask anything; it counts toward this month's usage." />
        </div>
        <button type="submit" className="button button-primary" disabled={pending} data-testid="try-send">
          {pending ? "Asking…" : "Send"}
        </button>
      </form>
      {error !== null && (
        <p className="notice notice-critical notice-compact" role="alert" data-testid="try-error">
          {error}
        </p>
      )}
      {answer && (
        <div className="try-answer" data-testid="try-answer">
          <p data-testid="try-answer-text">{answer.text}</p>
          <p className="muted" data-testid="try-answer-usage">
            {answer.model}: {formatTokens(answer.promptTokens)} in, {formatTokens(answer.completionTokens)} out
          </p>
        </div>
      )}
    </Card>
  );
}

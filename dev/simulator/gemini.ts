/**
 * Google Gemini's OpenAI-compatible endpoint (`POST /v1beta/openai/chat/completions`, Bearer
 * key): OpenAI's request and reply shapes (JSON and SSE, `stream_options.include_usage`,
 * tools), Gemini's models, and Google's error envelope, which this endpoint wraps in an array:
 * `[{error: {code, message, status}}]`. Token counts use the OpenAI simulator's formulas
 * (./tokens.ts); the thinking models add hidden "thought" tokens that this endpoint counts in
 * `total_tokens` but not in `completion_tokens`, so a client has to bill from the total.
 */
import { randomBytes } from "node:crypto";
import { bearerKey, dataFrame, errorMessage, tokenInterval, writeSse, type SseEvent } from "./aiCommon.ts";
import { SimHttpError, sendJson, type ProviderFormat, type Route, type RouteContext } from "./http.ts";
import {
  chosenTool,
  fnv1a,
  planCompletion,
  planToolCall,
  promptHash,
  requestPromptTokens,
  type ChatMessageLike,
  type ChatRequestLike,
} from "./tokens.ts";

export const GEMINI_MODELS: readonly string[] = ["gemini-2.5-flash", "gemini-2.5-pro", "gemini-2.5-flash-lite"];
/** Models that think before answering; thought tokens are 16 * (1 + (hash >>> 8) % 4), within max_tokens. */
export const GEMINI_THINKING_MODELS: ReadonlySet<string> = new Set(["gemini-2.5-flash", "gemini-2.5-pro"]);

const STATUS_NAMES: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  429: "RESOURCE_EXHAUSTED",
  500: "INTERNAL",
  503: "UNAVAILABLE",
  504: "DEADLINE_EXCEEDED",
};

export const geminiFormat: ProviderFormat = {
  name: "gemini",
  renderError(error) {
    const status = error.details.code ?? STATUS_NAMES[error.status] ?? (error.status >= 500 ? "INTERNAL" : "INVALID_ARGUMENT");
    return {
      body: [{ error: { code: error.status, message: errorMessage(error), status } }],
      headers: error.details.headers,
    };
  },
};

function invalid(message: string, status = 400): SimHttpError {
  return new SimHttpError(status, message, { code: STATUS_NAMES[status] });
}

function authorize(ctx: RouteContext): void {
  const key = bearerKey(ctx);
  if (!key) throw invalid("Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.", 401);
  if (key.endsWith("-invalid")) throw invalid("API key not valid. Please pass a valid API key.", 400);
}

export interface GeminiChatRequest extends ChatRequestLike {
  stream?: boolean;
}

/** Thought tokens a request spends before its visible reply (0 for non-thinking models). */
export function thoughtTokens(request: Pick<ChatRequestLike, "model" | "messages">): number {
  if (!GEMINI_THINKING_MODELS.has(request.model)) return 0;
  return 16 * (1 + ((promptHash(request.model, request.messages) >>> 8) % 4));
}

/**
 * The exact `usage` this endpoint reports: prompt_tokens as the OpenAI simulator counts them,
 * completion_tokens the visible reply (or tool call), total_tokens = prompt + thoughts +
 * completion. max_tokens bounds thoughts + visible output together.
 */
export function geminiUsage(request: ChatRequestLike, options: { completionTokens?: number | null } = {}) {
  const plan = geminiReply(request, options);
  const prompt = requestPromptTokens(request);
  return { prompt_tokens: prompt, completion_tokens: plan.visibleTokens, total_tokens: prompt + plan.thoughts + plan.visibleTokens };
}

function geminiReply(request: ChatRequestLike, options: { completionTokens?: number | null }) {
  const limit = request.max_completion_tokens ?? request.max_tokens ?? Number.POSITIVE_INFINITY;
  const thoughts = Math.min(thoughtTokens(request), limit);
  const rest = { ...request, max_tokens: Number.isFinite(limit) ? Math.max(0, limit - thoughts) : null, max_completion_tokens: null };
  const toolCall = planToolCall(rest);
  if (toolCall) return { thoughts, toolCall, text: null, visibleTokens: toolCall.completionTokens, finishReason: toolCall.finishReason };
  // planCompletion adds no reasoning for Gemini ids: thoughts are accounted here instead.
  const text = planCompletion(rest, options);
  return { thoughts, toolCall: null, text, visibleTokens: text.completionTokens, finishReason: text.finishReason };
}

function optionalInt(body: Record<string, unknown>, name: string): number | null {
  const value = body[name];
  if (value === undefined || value === null) return null;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) throw invalid(`Invalid value at '${name}': expected a positive integer.`);
  return value;
}

async function chatCompletions(ctx: RouteContext): Promise<void> {
  authorize(ctx);
  const body = ctx.json();
  if (typeof body.model !== "string" || !GEMINI_MODELS.includes(body.model.replace(/^models\//, ""))) {
    throw invalid(`models/${String(body.model)} is not found for API version v1beta, or is not supported for generateContent.`, 404);
  }
  const model = body.model.replace(/^models\//, "");
  if (!Array.isArray(body.messages) || body.messages.length === 0) throw invalid("* GenerateContentRequest.contents: contents is not specified");
  const n = optionalInt(body, "n");
  if (n !== null && n > 1) throw invalid("The simulator answers with one candidate; 'n' greater than 1 is not supported.");
  const tools = Array.isArray(body.tools) ? body.tools : null;
  if (body.tool_choice !== undefined && body.tool_choice !== null && body.tool_choice !== "none" && !tools) {
    throw invalid("tool_choice requires tools.");
  }
  const named = (body.tool_choice as { function?: { name?: unknown } } | undefined)?.function?.name;
  if (typeof named === "string" && !chosenTool({ tools, tool_choice: body.tool_choice })) throw invalid(`Function ${named} is not among the declared tools.`);
  const request: ChatRequestLike = {
    model,
    messages: body.messages as ChatMessageLike[],
    max_tokens: optionalInt(body, "max_tokens"),
    max_completion_tokens: optionalInt(body, "max_completion_tokens"),
    tools,
    tool_choice: body.tool_choice,
  };
  const reply = geminiReply(request, { completionTokens: ctx.overrides.completionTokens ?? ctx.state.config.completionTokens });
  const usage = geminiUsage(request, { completionTokens: ctx.overrides.completionTokens ?? ctx.state.config.completionTokens });
  const stream = body.stream === true;
  const includeUsage = (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
  const interval = tokenInterval(ctx);
  const id = `${randomBytes(12).toString("base64url")}`;
  const created = Math.floor(Date.now() / 1000);
  const toolCall = reply.toolCall
    ? { id: `function-call-${fnv1a(reply.toolCall.id).toString(36)}`, type: "function", function: { name: reply.toolCall.name, arguments: reply.toolCall.arguments } }
    : null;
  if (!stream) {
    if (!(await ctx.sleep(interval * (reply.thoughts + reply.visibleTokens)))) return;
    const message = toolCall ? { role: "assistant", tool_calls: [toolCall] } : { role: "assistant", content: reply.text!.text };
    sendJson(ctx.res, 200, {
      choices: [{ finish_reason: reply.finishReason, index: 0, message }],
      created, id, model, object: "chat.completion", usage,
    });
    return;
  }
  const chunk = (delta: Record<string, unknown>, finish: string | null) => ({
    choices: [{ delta, finish_reason: finish, index: 0 }], created, id, model, object: "chat.completion.chunk",
  });
  const events: SseEvent<unknown>[] = [];
  if (toolCall) {
    events.push({ data: chunk({ role: "assistant", tool_calls: [{ index: 0, ...toolCall }] }, reply.finishReason), delayMs: interval * (reply.thoughts + 1) });
  } else {
    const pieces = reply.text!.pieces;
    pieces.forEach((piece, i) => {
      events.push({
        data: chunk({ role: "assistant", content: piece }, i === pieces.length - 1 ? reply.finishReason : null),
        delayMs: interval * (i === 0 ? reply.thoughts + 1 : 1),
      });
    });
    if (pieces.length === 0) events.push({ data: chunk({ role: "assistant", content: "" }, reply.finishReason), delayMs: interval * reply.thoughts });
  }
  if (includeUsage) events.push({ data: { choices: [], created, id, model, object: "chat.completion.chunk", usage }, delayMs: 0 });
  events.push({ data: "[DONE]", delayMs: 0 });

  // Google sends this endpoint's stream as bare `text/event-stream`, no charset.
  await writeSse(ctx, events, dataFrame, { "content-type": "text/event-stream" });
}

export const geminiRoutes: Route[] = [
  { method: "POST", path: /^\/v1beta\/openai\/chat\/completions$/, provider: geminiFormat, handle: chatCompletions },
];

import { ConvexError } from "convex/values";

export type ErrorInfo = { code?: string; message: string };

// Server errors that are not ConvexErrors arrive wrapped in the client's request
// context ("[CONVEX M(x:y)] [Request ID: ...] Server Error\nUncaught Error: ...").
// People need the last part only.
function unwrapServerMessage(message: string): string {
  const uncaught = message.match(/Uncaught (?:\w*Error): ([\s\S]*?)(?:\n\s+at |\n\s*Called by client|$)/);
  if (uncaught) return uncaught[1].trim();
  return message.replace(/^\[CONVEX [^\]]*\]\s*(\[Request ID: [^\]]*\]\s*)?/, "").trim();
}

/** What to show for any thrown value: a ConvexError's `data.message`, else the message. */
export function describeError(error: unknown): ErrorInfo {
  if (error instanceof ConvexError) {
    const data: unknown = error.data;
    if (typeof data === "string") return { message: data };
    if (data && typeof data === "object") {
      const { code, message } = data as { code?: unknown; message?: unknown };
      return {
        code: typeof code === "string" ? code : undefined,
        message: typeof message === "string" ? message : "The request failed.",
      };
    }
  }
  if (error instanceof Error) {
    const message = unwrapServerMessage(error.message);
    if (message === "Server Error" || message === "") {
      return { message: "Something went wrong on our side. Try again in a moment." };
    }
    return { message };
  }
  return { message: String(error) };
}

// Errors a client can branch on: ConvexError({code, message}), where the message says what
// happened and what to do next.
import { ConvexError } from "convex/values";

export type ErrorCode =
  | "UNAUTHENTICATED"
  | "ACCOUNT_NOT_FOUND"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "INVALID_ARGUMENT"
  | "CONFLICT"
  | "RATE_LIMITED"
  | "ILLEGAL_TRANSITION";

export function fail(code: ErrorCode, message: string): never {
  throw new ConvexError({ code, message });
}

// Every support action carries a reason for the audit log: at least 3 characters, kept to 500.
import { fail } from "../lib/errors";

export function requireReason(reason: string): string {
  const why = reason.trim();
  if (why.length < 3) fail("INVALID_ARGUMENT", "Give a reason (at least 3 characters); it goes in the audit log.");
  return why.slice(0, 500);
}

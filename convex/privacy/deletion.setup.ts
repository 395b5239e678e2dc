// Tests only: the canonical mailbox signup attempts are keyed by (model/signup/emailIdentity.ts).
import { canonicalMailbox } from "../model/signup/emailIdentity";

export function mailboxOf(email: string): string {
  const m = canonicalMailbox(email);
  if (m === null) throw new Error(`${email} is not an address`);
  return m;
}

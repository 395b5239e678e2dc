// Email addresses as accounts store them: trimmed, lower-cased, and plausibly shaped.
// (Deliverability is the email provider's job; this only catches typos and junk.)

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** The stored form of an address, or null when it is not an email address. */
export function normalizeEmail(raw: string): string | null {
  const email = raw.trim().toLowerCase();
  return EMAIL.test(email) ? email : null;
}

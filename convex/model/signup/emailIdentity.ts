// Which mailbox an address reaches, for abuse checks. Pure.
// `Ada.Lovelace+dex@Gmail.com` and `adalovelace@googlemail.com` are one Gmail mailbox: Gmail
// ignores dots and everything after `+` in the local part, and googlemail.com is an alias of
// gmail.com. Rate limits key on this canonical form so one inbox cannot open unlimited trials.
// Other hosts are left as typed (lower-cased): for many of them dots and `+` are significant.
import { normalizeEmail } from "../accounts/email";

const GMAIL_DOMAINS = new Set(["gmail.com", "googlemail.com"]);

/** The mailbox an address reaches (lower-cased; Gmail dots and +tags removed), or null. */
export function canonicalMailbox(raw: string): string | null {
  const email = normalizeEmail(raw);
  if (email === null) return null;
  const at = email.lastIndexOf("@");
  const local = email.slice(0, at);
  const domain = email.slice(at + 1);
  if (!GMAIL_DOMAINS.has(domain)) return email;
  const base = local.split("+")[0].replaceAll(".", "");
  return base.length === 0 ? null : `${base}@gmail.com`;
}

/** The domain and each parent domain down to two labels: a.b.example.com -> b.example.com, example.com. */
export function domainAndParents(domain: string): string[] {
  const labels = domain.toLowerCase().replace(/\.+$/, "").split(".");
  const out: string[] = [];
  for (let i = 0; i <= labels.length - 2; i++) out.push(labels.slice(i).join("."));
  return out;
}

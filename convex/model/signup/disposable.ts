// Disposable (throwaway) email domains, from two maintained lists on npm: `mailchecker`
// (~56k domains, checks subdomains itself) and `disposable-email-domains-js` (~9k domains,
// about 5k of them missing from the first, exact matches only, and it rebuilds its Set on
// every call). The second's Set is built once here, and parent domains are walked for it, so
// `mx.throwaway.example` is refused when `throwaway.example` is listed. Pure (the lists are
// data bundled with the code).
import { disposableEmailBlocklistSet } from "disposable-email-domains-js";
import MailChecker from "mailchecker";
import { domainAndParents } from "./emailIdentity";

let secondList: Set<string> | null = null;

function disposableDomains(): Set<string> {
  secondList ??= disposableEmailBlocklistSet();
  return secondList;
}

/** True when the address's domain, or any parent domain, is on either list. */
export function isDisposableAddress(email: string): boolean {
  const at = email.lastIndexOf("@");
  if (at < 0) return false;
  const domain = email.slice(at + 1).toLowerCase();
  const set = disposableDomains();
  if (domainAndParents(domain).some((d) => set.has(d))) return true;
  // mailchecker's isValid also rejects malformed addresses; syntax is checked before this, so a
  // false here means its list (or its parent-domain walk) matched.
  return !MailChecker.isValid(`x@${domain}`);
}

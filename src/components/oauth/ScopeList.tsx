/** What an instance may do, one line per scope (the consent page and the device page). */
export function ScopeList({ scopes }: { scopes: { scope: string; description: string }[] }) {
  return (
    <ul className="feature-list scope-list" aria-label="What it may do" data-testid="connect-scopes">
      {scopes.map((s) => (
        <li key={s.scope} data-scope={s.scope}>
          {s.description}
        </li>
      ))}
    </ul>
  );
}

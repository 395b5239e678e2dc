import { CopyButton } from "./CopyButton";

/** A freshly minted API key secret: shown once, never again. */
export function SecretReveal({ secret }: { secret: string }) {
  return (
    <div className="secret">
      <p className="notice notice-warning" role="note">
        Copy this secret now. It is shown only once: we store a hash, not the key, so it cannot be
        shown again. If you lose it, rotate or create a new key.
      </p>
      <div className="secret-row">
        <code
          className="secret-value"
          data-testid="key-secret"
          tabIndex={0}
          aria-label="API key secret"
          onFocus={(e) => {
            const range = document.createRange();
            range.selectNodeContents(e.currentTarget);
            const selection = window.getSelection();
            selection?.removeAllRanges();
            selection?.addRange(range);
          }}
        >
          {secret}
        </code>
        <CopyButton text={secret} />
      </div>
    </div>
  );
}

import { CopyButton } from "./CopyButton";

/** A multi-line example (a shell command, a few lines of code) with a copy button. */
export function CodeBlock({ code, label, testId }: { code: string; label: string; testId?: string }) {
  return (
    <figure className="code-block" data-testid={testId}>
      <figcaption className="code-block-header">
        <span>{label}</span>
        <CopyButton text={code} />
      </figcaption>
      <pre>
        <code>{code}</code>
      </pre>
    </figure>
  );
}

/** One value to paste somewhere else (a URL, a setting), with its label and a copy button. */
export function CopyField({ label, value, testId }: { label: string; value: string; testId?: string }) {
  return (
    <div className="copy-field">
      <span className="copy-field-label">{label}</span>
      <code className="copy-field-value" data-testid={testId}>
        {value}
      </code>
      <CopyButton text={value} />
    </div>
  );
}

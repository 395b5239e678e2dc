import type { InputHTMLAttributes, ReactNode } from "react";

type InputProps = Omit<InputHTMLAttributes<HTMLInputElement>, "id" | "value" | "onChange" | "className">;

/** A labelled text input in the form layout; `onChange` gets the new text. */
export function TextField({
  id,
  label,
  value,
  onChange,
  grow = false,
  hint,
  ...input
}: InputProps & {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  /** Takes the spare width of an inline form. */
  grow?: boolean;
  hint?: ReactNode;
}) {
  return (
    <div className={grow ? "field field-grow" : "field"}>
      <label htmlFor={id}>{label}</label>
      <input id={id} value={value} onChange={(e) => onChange(e.target.value)} {...input} />
      {hint && <p className="field-hint">{hint}</p>}
    </div>
  );
}

/** A labelled select over a fixed set of values (no "current" marker, no empty choice). */
export function SelectField<T extends string>({
  id,
  label,
  choices,
  value,
  onChange,
  describe = (choice) => choice,
}: {
  id: string;
  label: string;
  choices: readonly T[];
  value: T;
  onChange: (choice: T) => void;
  describe?: (choice: T) => string;
}) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {/* The options are exactly `choices`, so the selected value is always a T. */}
      <select id={id} value={value} onChange={(e) => onChange(e.target.value as T)}>
        {choices.map((choice) => (
          <option key={choice} value={choice}>
            {describe(choice)}
          </option>
        ))}
      </select>
    </div>
  );
}

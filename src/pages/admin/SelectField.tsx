/**
 * A labelled select over a fixed set of values. `current` marks the value the record has now (the
 * account forms); a filter that allows "any" lists "" among its choices and describes it.
 */
export function SelectField<T extends string>({
  id,
  label,
  choices,
  value,
  onChange,
  describe = (choice) => choice,
  current,
}: {
  id: string;
  label: string;
  choices: readonly T[];
  value: T;
  onChange: (choice: T) => void;
  describe?: (choice: T) => string;
  current?: T;
}) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {/* The options are exactly `choices`, so the selected value is always a T. */}
      <select id={id} value={value} onChange={(e) => onChange(e.target.value as T)}>
        {choices.map((choice) => (
          <option key={choice} value={choice}>
            {describe(choice)}
            {current !== undefined && choice === current ? " (current)" : ""}
          </option>
        ))}
      </select>
    </div>
  );
}

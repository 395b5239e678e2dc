/** A labelled select that narrows a list: "Any" (empty) or one of a fixed set of values. */
export function FilterSelect<T extends string>({
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
  value: T | "";
  onChange: (choice: T | "") => void;
  describe?: (choice: T) => string;
}) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {/* The options are exactly "" and `choices`, so the selected value is always one of them. */}
      <select id={id} value={value} onChange={(e) => onChange(e.target.value as T | "")}>
        <option value="">Any</option>
        {choices.map((choice) => (
          <option key={choice} value={choice}>
            {describe(choice)}
          </option>
        ))}
      </select>
    </div>
  );
}

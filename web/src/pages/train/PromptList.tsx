// An editable list of validation prompts: the pictures drawn at each validation step, one prompt per row.
export function PromptList({ id, prompts, onChange, disabled }: {
  id: string;
  prompts: string[];
  onChange: (prompts: string[]) => void;
  disabled?: boolean;
}) {
  const set = (index: number, text: string) => onChange(prompts.map((p, i) => (i === index ? text : p)));
  return (
    <div className="prompt-list" id={id}>
      {prompts.length === 0 && <p className="muted small">No prompts: validation uses the first captions of the
        dataset.</p>}
      <ol>
        {prompts.map((prompt, index) => (
          // Rows are positions in the list: their text is what is being edited.
          <li key={index} className="prompt-row">
            <input type="text" value={prompt} disabled={disabled} aria-label={`Validation prompt ${index + 1}`}
              onChange={(e) => set(index, e.target.value)} />
            <button type="button" className="btn btn-small btn-ghost" disabled={disabled}
              aria-label={`Remove validation prompt ${index + 1}`}
              onClick={() => onChange(prompts.filter((_, i) => i !== index))}>Remove</button>
          </li>
        ))}
      </ol>
      <button type="button" className="btn btn-small" disabled={disabled} onClick={() => onChange([...prompts, ''])}>
        Add prompt</button>
    </div>
  );
}

/** The prompts worth sending: trimmed, without empty rows. */
export function cleanPrompts(prompts: string[]): string[] {
  return prompts.map((p) => p.trim()).filter(Boolean);
}

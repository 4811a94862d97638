// The settings of a checkpoint comparison: prompt, seed, steps and size (the same for every column).
import { useState } from 'react';
import { useBaseModel, useNativeSize } from '../../api/queries';
import { Field } from '../../components/Field';
import { DiceIcon } from '../../components/Icons';
import { DEFAULT_FORM, LIMITS, MAX_SEED, SIZES, randomSeed } from '../../lib/form';
import { modelLabel } from '../../lib/models';

export interface CompareSettings {
  prompt: string;
  seed: number;
  steps: number;
  size: number;
}

export function CompareForm({ chosen, onCompare }: { chosen: Set<string>; onCompare: (s: CompareSettings) => void }) {
  const baseModel = useBaseModel();
  const [prompt, setPrompt] = useState('');
  const [seed, setSeed] = useState(() => String(randomSeed()));
  const [steps, setSteps] = useState(DEFAULT_FORM.steps);
  const [size, setSize] = useState('');
  const [error, setError] = useState<string | null>(null);
  const native = useNativeSize();
  const sizeValue = size || String(native?.width ?? SIZES[0]);

  const submit = (event: React.FormEvent) => {
    event.preventDefault();
    const seedNumber = Number(seed);
    if (chosen.size < 2) return setError('Pick at least two checkpoints to compare.');
    if (!prompt.trim()) return setError('Write the prompt to compare them on.');
    if (!Number.isInteger(seedNumber) || seedNumber < 0 || seedNumber > MAX_SEED) {
      return setError(`The seed must be a whole number from 0 to ${MAX_SEED}.`);
    }
    setError(null);
    onCompare({ prompt: prompt.trim(), seed: seedNumber, steps: Number(steps), size: Number(sizeValue) });
  };

  return (
    <form onSubmit={submit} noValidate className="compare-form">
      <p className="muted small" data-testid="compare-chosen">
        {chosen.size ? `${chosen.size} selected: ${[...chosen].map((c) => modelLabel(c, baseModel)).join(', ')}`
          : 'No checkpoints selected yet.'}
      </p>
      <Field id="compare-prompt" label="Prompt">
        <textarea id="compare-prompt" rows={3} value={prompt} onChange={(e) => setPrompt(e.target.value)}
          placeholder="A professional product photo of white sneakers, side view" />
      </Field>
      <div className="grid-3">
        <Field id="compare-seed" label="Seed">
          <div className="input-with-button">
            <input id="compare-seed" type="number" min={0} max={MAX_SEED} value={seed}
              onChange={(e) => setSeed(e.target.value)} />
            <button type="button" className="btn btn-small" aria-label="New random seed"
              onClick={() => setSeed(String(randomSeed()))}><DiceIcon /></button>
          </div>
        </Field>
        <Field id="compare-steps" label="Steps">
          <input id="compare-steps" type="number" min={LIMITS.steps.min} max={LIMITS.steps.max} value={steps}
            onChange={(e) => setSteps(e.target.value)} />
        </Field>
        <Field id="compare-size" label="Size">
          <select id="compare-size" value={sizeValue} onChange={(e) => setSize(e.target.value)}>
            {SIZES.map((s) => <option key={s} value={String(s)}>{s} × {s}</option>)}
          </select>
        </Field>
      </div>
      {error && <p className="field-error" role="alert">{error}</p>}
      <button type="submit" className="btn btn-primary">Build comparison</button>
    </form>
  );
}

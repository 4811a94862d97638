// The validation pictures of a run, one contact sheet per validation step, with a slider over the steps. The
// newest is shown unless the user picks another (and again once they slide back to the newest).
import { useState } from 'react';
import { validationSheetUrl } from '../../api/endpoints';
import { ApiImage } from '../../components/ApiImage';

export function ValidationSheets({ runName, steps }: { runName: string; steps: number[] }) {
  const [picked, setPicked] = useState<number | null>(null); // null: follow the newest
  if (!steps.length) {
    return <p className="muted small figure-empty">No validation images yet: they are drawn at each validation
      step.</p>;
  }
  const index = picked !== null && steps.includes(picked) ? steps.indexOf(picked) : steps.length - 1;
  const step = steps[index];
  return (
    <div className="validation-sheets" data-testid="validation-sheets">
      <div className="validation-slider">
        <input type="range" min={0} max={steps.length - 1} step={1} value={index} disabled={steps.length < 2}
          aria-label="Validation step" aria-valuetext={`step ${step}`}
          onChange={(e) => {
            const next = Number(e.target.value);
            setPicked(next === steps.length - 1 ? null : steps[next]);
          }} />
        <span className="muted small" data-testid="validation-step">
          step {step}{index === steps.length - 1 ? ' (newest)' : ''} · {index + 1} of {steps.length}</span>
      </div>
      <ApiImage src={validationSheetUrl(runName, step)} alt={`Validation images of ${runName} at step ${step}`}
        aspectRatio="4 / 3" className="contain" fallback="Validation images unavailable" eager />
    </div>
  );
}

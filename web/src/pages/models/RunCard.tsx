// One training run: its checkpoints (tick them to compare), its evaluation (the best checkpoint and the
// score-versus-step chart), a validation contact sheet per validation step, and the loss curve.
import { useState } from 'react';
import { validationSheetUrl } from '../../api/endpoints';
import type { RunPublic } from '../../api/types';
import { ApiImage } from '../../components/ApiImage';
import { RunScores } from './RunScores';

export function RunCard({ run, chosen, onToggle }: { run: RunPublic; chosen: Set<string>;
  onToggle: (name: string) => void }) {
  const steps = run.validation_steps;
  const [step, setStep] = useState<number | null>(steps.length ? steps[steps.length - 1] : null);
  const entries = [
    ...run.checkpoints.map((c) => ({ name: c.name, label: `checkpoint ${c.step ?? '?'}` })),
    ...(run.has_final ? [{ name: run.name, label: 'final weights' }] : []),
  ];
  return (
    <article className="panel run-card" aria-labelledby={`run-${run.name}`} data-testid="run-card">
      <header className="run-head">
        <h3 id={`run-${run.name}`}>{run.name}</h3>
        <span className="muted small">
          {run.checkpoints.length} checkpoint{run.checkpoints.length === 1 ? '' : 's'}
          {run.has_final ? ' · final weights' : ''}
        </span>
      </header>
      <fieldset className="checkpoint-list">
        <legend className="visually-hidden">Checkpoints of {run.name} to compare</legend>
        {entries.map((entry) => (
          <label key={entry.name} className={`checkpoint-row ${chosen.has(entry.name) ? 'chosen' : ''}`}>
            <input type="checkbox" checked={chosen.has(entry.name)} onChange={() => onToggle(entry.name)}
              aria-label={`Compare ${entry.name}`} />
            <span className="checkpoint-name">{entry.label}</span>
            {run.best?.model === entry.name && <span className="badge badge-best">best</span>}
            <span className="mono muted small">{entry.name}</span>
          </label>
        ))}
      </fieldset>
      <RunScores run={run} />
      <div className="run-figures">
        <figure>
          <figcaption>
            <span>Validation images</span>
            {steps.length > 1 && (
              <select aria-label={`Validation step of ${run.name}`} value={step ?? ''}
                onChange={(e) => setStep(Number(e.target.value))}>
                {steps.map((s) => <option key={s} value={s}>step {s}</option>)}
              </select>
            )}
            {steps.length === 1 && <span className="muted small">step {steps[0]}</span>}
          </figcaption>
          {step !== null ? (
            <ApiImage src={validationSheetUrl(run.name, step)} alt={`Validation images of ${run.name} at step ${step}`}
              aspectRatio="4 / 3" className="contain" fallback="Validation images unavailable" />
          ) : <p className="muted small figure-empty">No validation images yet.</p>}
        </figure>
        <figure>
          <figcaption><span>Loss curve</span></figcaption>
          {run.loss_curve_url ? (
            <ApiImage src={run.loss_curve_url} alt={`Training loss of ${run.name}`} aspectRatio="4 / 3"
              className="contain" fallback="Loss curve unavailable" />
          ) : <p className="muted small figure-empty">No loss curve yet.</p>}
        </figure>
      </div>
    </article>
  );
}

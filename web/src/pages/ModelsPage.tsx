// Training runs and their checkpoints, with validation contact sheets and the loss curve; pick several
// checkpoints and compare them on one prompt and seed (one job per checkpoint, laid out side by side).
import { useEffect, useState } from 'react';
import { listRuns } from '../api/endpoints';
import { buildUrl, type ApiError } from '../api/http';
import type { GenerateCreate, RunPublic } from '../api/types';
import { ApiImage } from '../components/ApiImage';
import { ErrorNotice } from '../components/ErrorNotice';
import { Field } from '../components/Field';
import { DiceIcon } from '../components/Icons';
import { ProgressBar } from '../components/Progress';
import { MAX_SEED, SIZES, randomSeed } from '../lib/form';
import { isActive } from '../state/jobs';
import { modelLabel, useStudio } from '../state/studio';
import { ResultGrid, statusLine } from './JobCard';

interface Comparison {
  id: number;
  prompt: string;
  seed: number;
  cells: { model: string; jobId: string | null; error: string | null }[];
}

function RunCard({ run, detailed, chosen, onToggle }: { run: RunPublic; detailed: boolean; chosen: Set<string>;
  onToggle: (name: string) => void }) {
  const steps = run.validation_steps;
  const [step, setStep] = useState<number | null>(steps.length ? steps[steps.length - 1] : null);
  const entries = [
    ...run.checkpoints.map((c) => ({ name: c.name, label: `checkpoint ${c.step ?? '?'}`, step: c.step })),
    ...(run.has_final ? [{ name: run.name, label: 'final weights', step: null as number | null }] : []),
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
            <span className="mono muted small">{entry.name}</span>
          </label>
        ))}
      </fieldset>
      {detailed && (
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
              <ApiImage src={buildUrl('/api/runs/{run_name}/validation/{step}', { run_name: run.name, step })}
                alt={`Validation images of ${run.name} at step ${step}`} aspectRatio="4 / 3" className="contain"
                fallback="Validation images unavailable" />
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
      )}
    </article>
  );
}

export function ModelsPage() {
  const { models, baseModel, samplers, startJob, cancelJob, jobs, setViewer, setSettingsOpen, reportError,
    authVersion } = useStudio();
  const [runs, setRuns] = useState<RunPublic[]>([]);
  const [detailed, setDetailed] = useState(true);
  const [error, setError] = useState<ApiError | null>(null);
  const [loaded, setLoaded] = useState(false);
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  const [prompt, setPrompt] = useState('');
  const [seed, setSeed] = useState(() => String(randomSeed()));
  const [steps, setSteps] = useState('25');
  const [size, setSize] = useState('');
  const [formError, setFormError] = useState<string | null>(null);
  const [comparisons, setComparisons] = useState<Comparison[]>([]);

  useEffect(() => {
    const controller = new AbortController();
    listRuns(models, controller.signal).then((result) => {
      setRuns(result.runs);
      setDetailed(result.detailed);
      setError(null);
      setLoaded(true);
    }, (failure) => {
      if (controller.signal.aborted) return;
      setError(reportError(failure));
      setLoaded(true);
    });
    return () => controller.abort();
  }, [models, authVersion, reportError]);

  const sizeValue = size || (baseModel === 'tiny' ? '64' : '512');
  const toggle = (name: string) => setChosen((current) => {
    const next = new Set(current);
    if (next.has(name)) next.delete(name);
    else next.add(name);
    return next;
  });

  const compare = async (event: React.FormEvent) => {
    event.preventDefault();
    const seedNumber = Number(seed);
    if (chosen.size < 2) return setFormError('Pick at least two checkpoints to compare.');
    if (!prompt.trim()) return setFormError('Write the prompt to compare them on.');
    if (!Number.isInteger(seedNumber) || seedNumber < 0 || seedNumber > MAX_SEED) {
      return setFormError(`The seed must be a whole number from 0 to ${MAX_SEED}.`);
    }
    setFormError(null);
    // Columns in listing order: base model, then each run's checkpoints by step, then its final weights.
    const listing = [baseModel ?? '', ...runs.flatMap((r) => [...r.checkpoints.map((c) => c.name),
      ...(r.has_final ? [r.name] : [])])];
    const rank = (name: string) => (listing.includes(name) ? listing.indexOf(name) : listing.length);
    const order = [...chosen].sort((a, b) => rank(a) - rank(b));
    const comparison: Comparison = { id: Date.now(), prompt: prompt.trim(), seed: seedNumber,
      cells: order.map((model) => ({ model, jobId: null, error: null })) };
    setComparisons((list) => [comparison, ...list]);
    // One job per checkpoint, same prompt, seed and settings: only the weights differ between columns.
    for (const [index, model] of order.entries()) {
      const body: GenerateCreate = {
        prompt: comparison.prompt, negative_prompt: '', model_name: model === baseModel ? null : model, loras: [],
        num_images: 1, num_inference_steps: Number(steps), guidance_scale: 7.5, seed: seedNumber,
        sampler: samplers[0] ?? 'DPM++ 2M Karras', width: Number(sizeValue), height: Number(sizeValue), strength: 0.75,
      };
      let jobId: string | null = null;
      let cellError: string | null = null;
      try {
        jobId = await startJob(body, 'compare');
      } catch (failure) {
        cellError = reportError(failure).message;
      }
      setComparisons((list) => list.map((c) => (c.id !== comparison.id ? c : { ...c, cells: c.cells.map(
        (cell, i) => (i === index ? { ...cell, jobId, error: cellError } : cell)) })));
    }
  };

  const baseEntry = baseModel ? [{ name: baseModel }] : [];
  return (
    <div className="models-page">
      <div className="page-head">
        <h1 className="panel-title">Models</h1>
        <p className="muted">Fine-tuned runs on this server. Tick checkpoints to compare them side by side.</p>
      </div>
      <ErrorNotice error={error} onEnterKey={() => setSettingsOpen(true)} />

      <div className="models-layout">
        <section aria-labelledby="runs-title" className="runs-column">
          <h2 id="runs-title" className="section-title">Training runs</h2>
          {baseEntry.map((b) => (
            <label key={b.name} className={`checkpoint-row base-row panel ${chosen.has(b.name) ? 'chosen' : ''}`}>
              <input type="checkbox" checked={chosen.has(b.name)} onChange={() => toggle(b.name)}
                aria-label={`Compare ${b.name}`} />
              <span className="checkpoint-name">{modelLabel(b.name, baseModel)}</span>
              <span className="muted small">no fine-tuning, for reference</span>
            </label>
          ))}
          {loaded && runs.length === 0 && !error && (
            <div className="empty-state"><p><strong>No training runs found.</strong></p>
              <p className="muted">Train one with <code>shoegen train --output_dir MODELS_DIR/my-run</code>; its
                checkpoints appear here.</p></div>
          )}
          {!detailed && <p className="notice notice-warn">This server does not list run files: validation images and
            loss curves are not shown.</p>}
          {runs.map((run) => <RunCard key={run.name} run={run} detailed={detailed} chosen={chosen} onToggle={toggle} />)}
        </section>

        <section aria-labelledby="compare-title" className="panel compare-panel">
          <h2 id="compare-title" className="section-title">Compare checkpoints</h2>
          <form onSubmit={compare} noValidate className="compare-form">
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
                <input id="compare-steps" type="number" min={25} max={100} value={steps}
                  onChange={(e) => setSteps(e.target.value)} />
              </Field>
              <Field id="compare-size" label="Size">
                <select id="compare-size" value={sizeValue} onChange={(e) => setSize(e.target.value)}>
                  {SIZES.map((s) => <option key={s} value={String(s)}>{s} × {s}</option>)}
                </select>
              </Field>
            </div>
            {formError && <p className="field-error" role="alert">{formError}</p>}
            <button type="submit" className="btn btn-primary">Build comparison</button>
          </form>

          {comparisons.map((comparison) => (
            <div key={comparison.id} className="comparison" data-testid="comparison">
              <p className="comparison-title"><strong>{comparison.prompt}</strong>
                <span className="muted small"> · seed {comparison.seed}</span></p>
              <div className="comparison-grid" style={{ ['--cols' as string]: String(comparison.cells.length) }}>
                {comparison.cells.map((cell) => {
                  const job = cell.jobId ? jobs.byId[cell.jobId] : undefined;
                  return (
                    <figure key={cell.model} className="comparison-cell">
                      <figcaption title={cell.model}>{modelLabel(cell.model, baseModel)}</figcaption>
                      {cell.error ? <p className="notice notice-error small" role="alert">{cell.error}</p>
                        : job ? (
                          <>
                            {isActive(job) && (
                              <>
                                <ProgressBar value={job.step} max={job.status === 'running' ? job.total : 0}
                                  label={`Progress of ${cell.model}`} />
                                <p className="muted small">{statusLine(job)}
                                  <button type="button" className="link-btn" onClick={() => void cancelJob(job.id)}>
                                    Cancel</button></p>
                              </>
                            )}
                            {job.status === 'error' && <p className="notice notice-error small">{job.error}</p>}
                            {job.status === 'cancelled' && <p className="muted small">Cancelled</p>}
                            {job.status !== 'error' && job.status !== 'cancelled' && (
                              <ResultGrid job={job} images={job.images}
                                onOpen={(index) => job.images && setViewer({ images: job.images, index })} />
                            )}
                          </>
                        ) : <div className="img-box skeleton" style={{ aspectRatio: '1 / 1' }} />}
                    </figure>
                  );
                })}
              </div>
            </div>
          ))}
        </section>
      </div>
    </div>
  );
}

// Training runs and their checkpoints, with validation contact sheets and the loss curve; pick several
// checkpoints and compare them on one prompt and seed (one job per checkpoint, laid out side by side).
import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { toApiError } from '../../api/http';
import { useBaseModel, useRuns, useSamplers } from '../../api/queries';
import type { GenerateCreate, RunPublic } from '../../api/types';
import { ErrorNotice } from '../../components/ErrorNotice';
import { DEFAULT_FORM, toRequest } from '../../lib/form';
import { modelLabel } from '../../lib/models';
import { useSetSettingsOpen } from '../../state/dialogs';
import { useJobActions } from '../../state/jobs';
import { CompareForm, type CompareSettings } from './CompareForm';
import { ComparisonView, type Comparison } from './ComparisonView';
import { RunCard } from './RunCard';

/** Columns in listing order: base model, then each run's checkpoints by step, then its final weights. */
function listingOrder(chosen: Set<string>, baseModel: string | null, runs: RunPublic[]): string[] {
  const listing = [baseModel ?? '', ...runs.flatMap((r) => [...r.checkpoints.map((c) => c.name),
    ...(r.has_final ? [r.name] : [])])];
  const rank = (name: string) => (listing.includes(name) ? listing.indexOf(name) : listing.length);
  return [...chosen].sort((a, b) => rank(a) - rank(b));
}

/** One job per checkpoint, same prompt, seed and settings: only the weights differ between columns. */
function useComparisons(runs: RunPublic[]) {
  const baseModel = useBaseModel();
  const samplers = useSamplers();
  const { startJob } = useJobActions();
  const start = useMutation({ mutationFn: (body: GenerateCreate) => startJob(body, 'compare') });
  const [comparisons, setComparisons] = useState<Comparison[]>([]);

  const compare = async (chosen: Set<string>, settings: CompareSettings) => {
    const order = listingOrder(chosen, baseModel, runs);
    const comparison: Comparison = { id: Date.now(), prompt: settings.prompt, seed: settings.seed,
      cells: order.map((model) => ({ model, jobId: null, error: null })) };
    setComparisons((list) => [comparison, ...list]);
    for (const [index, model] of order.entries()) {
      const body: GenerateCreate = toRequest({
        ...DEFAULT_FORM, prompt: settings.prompt, negativePrompt: '', model: model === baseModel ? '' : model,
        numImages: '1', steps: String(settings.steps), seedMode: 'fixed', seed: String(settings.seed),
        sampler: samplers[0] ?? DEFAULT_FORM.sampler, width: String(settings.size), height: String(settings.size),
      });
      let jobId: string | null = null;
      let cellError: string | null = null;
      try {
        jobId = await start.mutateAsync(body);
      } catch (failure) {
        cellError = toApiError(failure).message;
      }
      setComparisons((list) => list.map((c) => (c.id !== comparison.id ? c : { ...c, cells: c.cells.map(
        (cell, i) => (i === index ? { ...cell, jobId, error: cellError } : cell)) })));
    }
  };
  return { comparisons, compare };
}

export function ModelsPage() {
  const runsQuery = useRuns();
  const runs = runsQuery.data ?? [];
  const baseModel = useBaseModel();
  const setSettingsOpen = useSetSettingsOpen();
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  const { comparisons, compare } = useComparisons(runs);
  const toggle = (name: string) => setChosen((current) => {
    const next = new Set(current);
    if (next.has(name)) next.delete(name);
    else next.add(name);
    return next;
  });

  return (
    <div className="models-page">
      <div className="page-head">
        <h1 className="panel-title">Models</h1>
        <p className="muted">Fine-tuned runs on this server. Tick checkpoints to compare them side by side.</p>
      </div>
      <ErrorNotice error={runsQuery.error && toApiError(runsQuery.error)} onEnterKey={() => setSettingsOpen(true)} />

      <div className="models-layout">
        <section aria-labelledby="runs-title" className="runs-column">
          <h2 id="runs-title" className="section-title">Training runs</h2>
          {baseModel && (
            <label className={`checkpoint-row base-row panel ${chosen.has(baseModel) ? 'chosen' : ''}`}>
              <input type="checkbox" checked={chosen.has(baseModel)} onChange={() => toggle(baseModel)}
                aria-label={`Compare ${baseModel}`} />
              <span className="checkpoint-name">{modelLabel(baseModel, baseModel)}</span>
              <span className="muted small">no fine-tuning, for reference</span>
            </label>
          )}
          {runsQuery.isSuccess && runs.length === 0 && (
            <div className="empty-state"><p><strong>No training runs found.</strong></p>
              <p className="muted">Train one with <code>shoegen train --output_dir MODELS_DIR/my-run</code>; its
                checkpoints appear here.</p></div>
          )}
          {runs.map((run) => <RunCard key={run.name} run={run} chosen={chosen} onToggle={toggle} />)}
        </section>

        <section aria-labelledby="compare-title" className="panel compare-panel">
          <h2 id="compare-title" className="section-title">Compare checkpoints</h2>
          <CompareForm chosen={chosen} onCompare={(settings) => void compare(chosen, settings)} />
          {comparisons.map((comparison) => <ComparisonView key={comparison.id} comparison={comparison} />)}
        </section>
      </div>
    </div>
  );
}

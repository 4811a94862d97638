// One run, live: progress and numbers, the loss chart fed from the incremental log, the validation pictures, the
// validation prompts (editable while it trains) and the controls. Polled every couple of seconds while it moves.
import { lazy, Suspense } from 'react';
import { toApiError } from '../../api/http';
import { ErrorNotice } from '../../components/ErrorNotice';
import { formatDate } from '../../lib/browser';
import { useToast } from '../../state/toasts';
import { RunControls, type RunAction } from './RunControls';
import { StatusBadge } from './RunList';
import { RunProgress } from './RunProgress';
import { RunPrompts } from './RunPrompts';
import { datasetName, isLive } from './status';
import { useRun, useRunActions, useRunLog } from './useTraining';
import { ValidationSheets } from './ValidationSheets';

// The chart library is most of the chart's weight: loaded with the first run shown.
const LossChart = lazy(() => import('./LossChart').then((module) => ({ default: module.LossChart })));

const DONE_MESSAGES: Partial<Record<RunAction, string>> = {
  stop: 'Stopping: a checkpoint is written first.',
  save: 'A checkpoint is being written.',
  sample: 'Validation pictures are being drawn.',
  resume: 'Resumed: the run is back in the queue.',
  remove: 'Run deleted.',
};

export function RunDetail({ name, onDeleted }: { name: string; onDeleted: () => void }) {
  const runQuery = useRun(name);
  const run = runQuery.data;
  const live = run ? isLive(run) : false;
  const log = useRunLog(name, live);
  const { action, prompts } = useRunActions(name, onDeleted);
  const toast = useToast();
  if (!run) {
    return runQuery.error ? <ErrorNotice error={toApiError(runQuery.error)} onRetry={() => void runQuery.refetch()} />
      : <div className="skeleton panel run-detail-loading" aria-busy="true" />;
  }
  const act = (which: RunAction) => action.mutate(which, {
    onSuccess: () => toast(DONE_MESSAGES[which] ?? 'Done.'),
    onError: (error) => toast(toApiError(error).message, 'error'),
  });
  return (
    <article className="panel run-detail" aria-labelledby="run-detail-title" data-testid="run-detail"
      data-status={run.status}>
      <header className="run-detail-head">
        <h2 id="run-detail-title">{run.name}</h2>
        <StatusBadge status={run.status} testId="run-status" />
        <span className="muted small">
          {[run.dataset && `dataset ${datasetName(run.dataset)}`, run.base_model && `base ${run.base_model}`,
            run.started_at && `started ${formatDate(run.started_at)}`].filter(Boolean).join(' · ')}
        </span>
      </header>
      <RunProgress run={run} />
      <RunControls run={run} pending={action.isPending ? action.variables : null} onAction={act} />
      <div className="run-figures">
        <figure>
          <figcaption><span>Loss</span></figcaption>
          <Suspense fallback={<div className="score-chart-loading skeleton" aria-hidden="true" />}>
            <LossChart records={log.data?.records ?? []} maxSteps={run.max_steps} runName={run.name} />
          </Suspense>
        </figure>
        <figure>
          <figcaption><span>Validation images</span></figcaption>
          <ValidationSheets runName={run.name} steps={run.validation_steps} />
        </figure>
      </div>
      <section aria-labelledby="run-prompts-title">
        <h3 id="run-prompts-title" className="section-title">Validation prompts</h3>
        <p className="muted small">What the validation pictures show. Changes apply from the next validation step,
          also while the run trains.</p>
        <RunPrompts key={(run.validation_prompts ?? []).join('\n')} prompts={run.validation_prompts ?? []} saving={prompts.isPending}
          onSave={(list) => prompts.mutateAsync(list).then(() => toast('Validation prompts saved.'),
            (error: unknown) => toast(toApiError(error).message, 'error'))} />
      </section>
    </article>
  );
}

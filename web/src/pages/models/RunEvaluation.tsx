// Start an evaluation of a run from its card, follow it (images made of all) and cancel it; a failed or
// interrupted one says why. The scores and the best checkpoint it writes show in RunScores when it is done.
import { useState } from 'react';
import { toApiError } from '../../api/http';
import { isEvaluating } from '../../api/queries';
import type { EvaluationCreate, RunPublic } from '../../api/types';
import { FIELD_RULES } from '../../client';
import { ProgressBar } from '../../components/Progress';
import { useToast } from '../../state/toasts';
import { isLive } from '../train/status';
import { useEvaluation } from './useEvaluation';

const RULES = FIELD_RULES.EvaluationCreate;
const DEFAULT_SEEDS = Number(RULES.seeds.default);
/** Images per prompt and model: more make the scores steadier and the evaluation longer. */
export const SEED_CHOICES = [...new Set([1, DEFAULT_SEEDS, 4, 8])].sort((a, b) => a - b);

/** The evaluation the studio asks for: `seeds` images per prompt, every other setting the server's default. */
export function evaluationBody(seeds: number): EvaluationCreate {
  return { seeds, seed: Number(RULES.seed.default), metrics: RULES.metrics.default as string[],
    best_metric: String(RULES.best_metric.default) };
}

const ENDED: Record<string, string> = {
  error: 'The evaluation failed',
  interrupted: 'The evaluation was interrupted',
  cancelled: 'The evaluation was cancelled',
};

export function RunEvaluation({ run }: { run: RunPublic }) {
  const [seeds, setSeeds] = useState(DEFAULT_SEEDS);
  const { start, cancel } = useEvaluation(run.name);
  const toast = useToast();
  const evaluation = run.evaluation;
  if (evaluation && isEvaluating(run)) {
    const { images_done: done, images_total: total } = evaluation;
    return (
      <div className="run-evaluation" data-testid="evaluation-progress">
        <ProgressBar value={done} max={evaluation.status === 'queued' ? 0 : total}
          label={`Evaluation progress of ${run.name}`} />
        <span className="muted small" data-testid="evaluation-step">
          {evaluation.status === 'queued' ? `Evaluation queued: ${evaluation.waiting_reason ?? 'waiting for the '
            + 'training worker'}`
            : total ? `Evaluating: ${done} of ${total} images` : 'Evaluation starting: loading the base model…'}
        </span>
        <button type="button" className="btn btn-small" disabled={cancel.isPending}
          onClick={() => cancel.mutate(evaluation.job_id, {
            onError: (error) => toast(toApiError(error).message, 'error') })}>
          {cancel.isPending ? 'Cancelling…' : 'Cancel'}</button>
      </div>
    );
  }
  const nothing = !run.checkpoints.length && !run.has_final;
  const why = nothing ? 'The run has no checkpoint yet to evaluate.'
    : isLive(run) ? 'The run is training: evaluate it once it has stopped or finished.' : undefined;
  const ended = evaluation && ENDED[evaluation.status];
  return (
    <div className="run-evaluation">
      {ended && (
        <p className="notice notice-error small" data-testid="evaluation-ended">
          <strong>{ended}{evaluation.error ? ': ' : '.'}</strong>{evaluation.error}</p>
      )}
      {evaluation?.status === 'done' && evaluation.notices.length > 0 && (
        <ul className="muted small evaluation-notices" data-testid="evaluation-notices"
          aria-label="What the last evaluation skipped">
          {evaluation.notices.map((notice) => <li key={notice}>{notice}</li>)}
        </ul>
      )}
      <label className="small"
        title="Images each checkpoint makes per prompt: more give steadier scores and take longer">
        Images per prompt{' '}
        <select aria-label={`Images per prompt for ${run.name}`} value={seeds}
          onChange={(e) => setSeeds(Number(e.target.value))}>
          {SEED_CHOICES.map((n) => <option key={n} value={n}>{n}</option>)}
        </select>
      </label>
      <button type="button" className="btn btn-small btn-primary" disabled={Boolean(why) || start.isPending}
        title={why ?? 'Generates the same prompts and seeds with every checkpoint, scores each image (white '
          + 'background, framing, colour, sharpness, variety, no copies of training photos) and picks the best'}
        onClick={() => start.mutate(evaluationBody(seeds), {
          onSuccess: () => toast('Evaluation queued: the scores show here when it is done.'),
          onError: (error) => toast(toApiError(error).message, 'error') })}>
        {start.isPending ? 'Queueing…' : run.scores.length ? 'Evaluate again' : 'Evaluate checkpoints'}</button>
    </div>
  );
}

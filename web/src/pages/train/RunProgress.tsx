// Where a run stands: step of max steps as a bar, and the numbers of its latest step in plain words.
import type { RunPublic } from '../../api/types';
import { ProgressBar } from '../../components/Progress';
import { formatDuration, formatNumber, isLive, waitingText } from './status';

type Run = Pick<RunPublic, 'name' | 'status' | 'step' | 'max_steps' | 'loss' | 'lr' | 'steps_per_second'
  | 'eta_seconds' | 'position' | 'waiting_reason' | 'error'>;

export function RunProgress({ run }: { run: Run }) {
  const step = run.step ?? 0;
  const max = run.max_steps ?? 0;
  const stats = [
    { label: 'Loss', value: formatNumber(run.loss), hint: 'How far the model is from the training photos; it '
      + 'should trend down, noisily.' },
    { label: 'Learning rate', value: formatNumber(run.lr), hint: 'The size of each update at this step.' },
    { label: 'Speed', value: run.steps_per_second ? `${formatNumber(run.steps_per_second)} steps/s` : '–',
      hint: 'Training steps per second.' },
    { label: 'Time left', value: isLive(run) ? formatDuration(run.eta_seconds) : '–',
      hint: 'Estimated from the recent speed.' },
  ];
  return (
    <section className="run-progress" aria-label={`Progress of ${run.name}`}>
      {run.status === 'queued' && (
        <p className="notice notice-warn" data-testid="run-waiting">{waitingText(run)}</p>
      )}
      {run.status === 'error' && run.error && (
        <p className="notice notice-error" data-testid="run-error"><strong>Training failed: </strong>{run.error}</p>
      )}
      <div className="run-step">
        <ProgressBar value={step} max={run.status === 'queued' ? 0 : max} label={`Training progress of ${run.name}`} />
        <span className="muted small" data-testid="run-step">
          {max ? `step ${step} of ${max}` : 'not started'}{max && step ? ` (${Math.round((100 * step) / max)}%)` : ''}
        </span>
      </div>
      <dl className="run-stats">
        {stats.map((s) => (
          <div key={s.label} className="run-stat" title={s.hint}>
            <dt>{s.label}</dt>
            <dd data-testid={`run-${s.label.toLowerCase().replaceAll(' ', '-')}`}>{s.value}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}

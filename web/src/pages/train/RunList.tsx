// The training runs on this server, newest state first: a badge per run, its progress, why a queued one waits
// and why a failed one failed. Each opens its live view.
import { Link } from '@tanstack/react-router';
import type { RunPublic } from '../../api/types';
import { datasetName, statusBadge, waitingText } from './status';

export function StatusBadge({ status, testId }: { status: string; testId?: string }) {
  const { label, className } = statusBadge(status);
  return <span className={`badge ${className}`} data-testid={testId}>{label}</span>;
}

function RunLine({ run }: { run: RunPublic }) {
  if (run.status === 'queued') return <span className="run-line">{waitingText(run)}</span>;
  if (run.status === 'error') return <span className="run-line danger-text">{run.error ?? 'failed'}</span>;
  const steps = run.max_steps ? `step ${run.step ?? 0} of ${run.max_steps}` : null;
  const from = run.dataset ? `on ${datasetName(run.dataset)}` : run.source === 'terminal' ? 'trained from the terminal' : null;
  return <span className="run-line muted">{[steps, from].filter(Boolean).join(' · ')}</span>;
}

export function RunList({ runs, selected }: { runs: RunPublic[]; selected?: string }) {
  if (!runs.length) {
    return <p className="muted small figure-empty">No runs yet. Fill in the form to start the first one.</p>;
  }
  return (
    <ul className="run-list" aria-label="Training runs">
      {runs.map((run) => (
        <li key={run.name}>
          <Link to="/train" search={{ run: run.name }} className={`run-item ${run.name === selected ? 'chosen' : ''}`}
            aria-current={run.name === selected ? 'page' : undefined} data-testid="run-item" data-run-status={run.status}>
            <span className="run-item-head">
              <strong className="run-item-name">{run.name}</strong>
              <StatusBadge status={run.status} />
            </span>
            <RunLine run={run} />
          </Link>
        </li>
      ))}
    </ul>
  );
}

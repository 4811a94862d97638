// A run's state in words: its badge, whether it is still moving (and so polled), what it waits for, how long is left.
import type { RunPublic } from '../../api/types';

/** The states GET /api/runs names (its `status`, a string in the contract). */
export type RunStatus = 'queued' | 'running' | 'stopping' | 'stopped' | 'interrupted' | 'done' | 'error'
  | 'cancelled' | 'finished';

const STATUS_LABELS: Record<RunStatus, string> = {
  queued: 'Waiting',
  running: 'Training',
  stopping: 'Stopping…',
  stopped: 'Stopped',
  interrupted: 'Interrupted',
  done: 'Done',
  error: 'Failed',
  cancelled: 'Cancelled',
  finished: 'Finished',
};

const STATUS_BADGE: Record<RunStatus, string> = {
  queued: 'badge-queued',
  running: 'badge-running',
  stopping: 'badge-running',
  stopped: 'badge-cancelled',
  interrupted: 'badge-cancelled',
  done: 'badge-done',
  error: 'badge-error',
  cancelled: 'badge-cancelled',
  finished: 'badge-done',
};

/** A state in words and its badge's colour class (a state this page does not know yet is shown as it comes). */
export function statusBadge(status: string): { label: string; className: string } {
  const known = status in STATUS_LABELS ? (status as RunStatus) : null;
  return { label: known ? STATUS_LABELS[known] : status, className: known ? STATUS_BADGE[known] : '' };
}

export { isLive } from '../../api/queries';

/** Done with final weights: ready to generate with. */
export function isFinished(run: Pick<RunPublic, 'status' | 'has_final'>): boolean {
  return (run.status === 'done' || run.status === 'finished') && run.has_final;
}

function ordinal(n: number): string {
  const tens = n % 100;
  if (tens >= 11 && tens <= 13) return `${n}th`;
  return `${n}${['th', 'st', 'nd', 'rd'][n % 10] ?? 'th'}`;
}

/** Why a queued run has not started: its place in the queue and the server's reason. */
export function waitingText(run: Pick<RunPublic, 'position' | 'waiting_reason'>): string {
  const place = run.position === null ? 'In the training queue'
    : run.position <= 1 ? 'Next in the training queue' : `${ordinal(run.position)} in the training queue`;
  return run.waiting_reason ? `${place}: ${run.waiting_reason}` : place;
}

/** "1 h 05 min", "3 min 20 s", "45 s"; a dash when unknown. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '–';
  const total = Math.round(seconds);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const rest = total % 60;
  if (hours) return `${hours} h ${String(minutes).padStart(2, '0')} min`;
  if (minutes) return `${minutes} min ${String(rest).padStart(2, '0')} s`;
  return `${rest} s`;
}

/** A loss or learning rate, short: 0.1234, 1.2e-4. */
export function formatNumber(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  if (value !== 0 && Math.abs(value) < 1e-3) return value.toExponential(1);
  return value.toPrecision(4).replace(/\.?0+$/, '');
}

/** The model a finished run generates with: its final weights, else its newest checkpoint. */
export function generationModel(run: Pick<RunPublic, 'name' | 'has_final' | 'checkpoints'>): string | null {
  if (run.has_final) return run.name;
  const newest = [...run.checkpoints].sort((a, b) => (a.step ?? 0) - (b.step ?? 0)).at(-1);
  return newest?.name ?? null;
}

/** The dataset's name from the run's dataset folder (the last part of its path). */
export function datasetName(path: string | null): string | null {
  return path ? path.split(/[/\\]/).filter(Boolean).at(-1) ?? path : null;
}

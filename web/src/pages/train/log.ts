// A run's training log as the chart shows it: records fetched a few at a time (GET /api/runs/{name}/log?since_step=N)
// and merged into what the cache holds already, one point per step.
import type { LogRecord, RunLogPublic } from '../../api/types';

export interface RunLog {
  records: LogRecord[];
  /** The last step the server has logged; the next request asks for what came after it. */
  lastStep: number;
}

export const EMPTY_LOG: RunLog = { records: [], lastStep: 0 };

/** A record's step (the contract types a record as a mapping: each carries its step). */
export function stepOf(record: LogRecord | undefined): number {
  return typeof record?.step === 'number' ? record.step : 0;
}

/**
 * `incoming` added to `current`: records of a step already held are merged into it (a validation loss is often
 * logged apart from the training loss of its step, and a resumed run logs again the steps after its checkpoint);
 * the result is in step order.
 */
export function mergeLog(current: RunLog, incoming: RunLogPublic): RunLog {
  if (!incoming.records.length) {
    return incoming.last_step === current.lastStep ? current : { ...current, lastStep: incoming.last_step };
  }
  const byStep = new Map(current.records.map((record) => [stepOf(record), record]));
  for (const record of incoming.records) byStep.set(stepOf(record), { ...byStep.get(stepOf(record)), ...record });
  const records = [...byStep.values()].sort((a, b) => stepOf(a) - stepOf(b));
  return { records, lastStep: Math.max(incoming.last_step, stepOf(records.at(-1))) };
}

export const LOSS_SERIES = [
  { key: 'loss', label: 'training loss', colour: '#4f46e5' },
  { key: 'val_loss', label: 'validation loss', colour: '#d97706' },
  { key: 'prior_loss', label: 'prior loss', colour: '#1a7f4b' },
] as const;

export type LossKey = (typeof LOSS_SERIES)[number]['key'];

/** The series that have at least one value, so the legend names only what is drawn. */
export function seriesWithValues(records: LogRecord[]): LossKey[] {
  return LOSS_SERIES.map((s) => s.key).filter((key) => records.some((r) => typeof r[key] === 'number'));
}

// A run's evaluation as the score chart reads it: which metrics have values, their names in words, and one row per
// step (step 0 is the base without adapter).
import type { components } from '../../client';

export type CheckpointScores = components['schemas']['CheckpointScores'];
export type BestCheckpoint = components['schemas']['BestCheckpoint'];

/** The metric `shoegen evaluate` picks the best checkpoint by unless told otherwise, and the chart's bold line. */
export const MAIN_METRIC = 'catalogue_score';

/** The metrics for which a smaller value is better (src/shoegen/config/scores.py: LOWER_IS_BETTER). */
const LOWER_IS_BETTER = new Set(['colour_distance', 'offset', 'cut_off', 'memorised', 'kid', 'fid']);

const LABELS: Record<string, string> = {
  catalogue_score: 'catalogue score',
  score: 'composite score',
  background: 'white background',
  fill: 'fill',
  offset: 'offset from centre',
  cut_off: 'cut off',
  colour_distance: 'colour distance',
  sharpness_ratio: 'sharpness ratio',
  diversity: 'seed diversity',
  memorised: 'memorised',
  passes_main_image: 'passes main-image rule',
  passes_catalogue: 'passes catalogue rule',
  clip_score: 'CLIP score',
  clip_image_similarity: 'CLIP-I similarity',
  dino_similarity: 'DINO similarity',
  kid: 'KID',
  fid: 'FID',
};

export function metricLabel(metric: string): string {
  const label = LABELS[metric] ?? metric.replaceAll('_', ' ');
  return LOWER_IS_BETTER.has(metric) ? `${label} (lower is better)` : label;
}

/** Metrics with a value at one step at least, in the order the server lists them. */
export function metricsWithValues(scores: CheckpointScores[]): string[] {
  const seen = new Set<string>();
  for (const entry of scores) {
    for (const [metric, value] of Object.entries(entry.metrics)) {
      if (typeof value === 'number' && Number.isFinite(value)) seen.add(metric);
    }
  }
  return [...seen];
}

export interface ScoreRow {
  step: number;
  model: string;
  images: number;
  metrics: CheckpointScores['metrics'];
}

/** One row per step, in step order. */
export function scoreRows(scores: CheckpointScores[]): ScoreRow[] {
  return [...scores].sort((a, b) => a.step - b.step)
    .map(({ step, model, images, metrics }) => ({ step, model, images, metrics }));
}

export function formatScore(value: number | null | undefined): string {
  if (value === null || value === undefined) return '–';
  return Math.abs(value) >= 100 ? value.toFixed(0) : Math.abs(value) >= 10 ? value.toFixed(1) : value.toFixed(2);
}

/** The metric the chart plots next to the main one: the asked one when it has values, else the main one. */
export function plottedMetric(asked: string | undefined, available: string[]): string {
  if (asked && available.includes(asked)) return asked;
  return available.includes(MAIN_METRIC) ? MAIN_METRIC : available[0] ?? MAIN_METRIC;
}

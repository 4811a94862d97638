import type { ModelPublic } from '../api/types';

/** A stable model label: "shoes · checkpoint 4" for "shoes/checkpoint-4", "shoes · best (step 8)" for the evaluation's
 * pick "shoes/best" (the step when the listing gives it). */
export function modelLabel(model: ModelPublic | string, baseModel?: string | null): string {
  const name = typeof model === 'string' ? model : model.name;
  if (!name || name === baseModel) return `${name || baseModel || 'base'} (base model)`;
  const match = /^(.*)\/checkpoint-(\d+)$/.exec(name);
  if (match) return `${match[1]} · checkpoint ${match[2]}`;
  const best = /^(.*)\/best$/.exec(name);
  if (best) {
    const step = typeof model !== 'string' && model.step !== null && model.step !== undefined ? model.step : null;
    return `${best[1]} · best${step === null ? '' : ` (step ${step})`}`;
  }
  return typeof model !== 'string' && model.type === 'final' ? `${name} (final)` : name;
}

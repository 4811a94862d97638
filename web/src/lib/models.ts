import type { ModelPublic } from '../api/types';

/** A stable model label: "shoes · checkpoint 4" for "shoes/checkpoint-4". */
export function modelLabel(model: ModelPublic | string, baseModel?: string | null): string {
  const name = typeof model === 'string' ? model : model.name;
  if (!name || name === baseModel) return `${name || baseModel || 'base'} (base model)`;
  const match = /^(.*)\/checkpoint-(\d+)$/.exec(name);
  if (match) return `${match[1]} · checkpoint ${match[2]}`;
  return typeof model !== 'string' && model.type === 'final' ? `${name} (final)` : name;
}

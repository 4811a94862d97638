// Training fields, recipes and runs as the server sends them, for the training page's tests.
import type { RecipePublic, SettingFieldPublic, RunPublic } from '../../api/types';

function field(name: string, group: string, type: SettingFieldPublic['type'], defaultValue: unknown,
  extra: Partial<SettingFieldPublic> = {}): SettingFieldPublic {
  return { name, group, type, default: defaultValue, optional: defaultValue === null, minimum: null, maximum: null, exclusive_minimum: null,
    exclusive_maximum: null, choices: null, help: `What ${name} does.`, ...extra };
}

export const FIELDS: SettingFieldPublic[] = [
  field('resolution', 'Images', 'integer', 512, { minimum: 64, maximum: 2048, help: 'Side of the training images.' }),
  field('center_crop', 'Images', 'boolean', false),
  field('learning_rate', 'Optimizer', 'number', 1e-4, { exclusive_minimum: 0, maximum: 1 }),
  field('max_train_steps', 'Optimizer', 'integer', 3000, { minimum: 1 }),
  field('snr_gamma', 'Optimizer', 'number', null, { exclusive_minimum: 0 }),
  field('mixed_precision', 'Hardware', 'enum', 'no', { choices: ['no', 'fp16', 'bf16'] }),
  field('validation_metrics', 'Validation', 'list', []),
];

export const RECIPES: RecipePublic[] = [
  { name: 'original', title: 'The original system: SD 1.5 at 512 px', validation_prompts: null,
    settings: { resolution: 512, max_train_steps: 3000 } },
  { name: 'quick-test', title: 'A quick test: tiny base, 64 px, 40 steps', validation_prompts: ['white sneakers'],
    settings: { resolution: 64, max_train_steps: 40, learning_rate: 0.001 } },
];

export function trainingRun(overrides: Partial<RunPublic> = {}): RunPublic {
  return {
    name: 'sneakers', checkpoints: [], has_final: false, validation_steps: [], loss_curve_url: null, scores: [],
    best: null, scores_plot_url: null,
    status: 'running', source: 'studio', job_id: 'job-1', position: null, waiting_reason: null, error: null,
    step: 10, max_steps: 40, loss: 0.1234, lr: 0.0001, steps_per_second: 2.5, eta_seconds: 12, started_at: null,
    finished_at: null, dataset: 'shoes', base_model: 'tiny', validation_prompts: ['red sneakers'], resumable: false,
    evaluation: null,
    ...overrides,
  };
}

// TEMPORARY: the issue-16 contract's shapes (/work/notes/contract-16.md) until its routes are in the OpenAPI
// schema; then these become aliases of the generated client in types.ts and this file goes.

export type DatasetLayout = 'captions.json' | 'imagefolder' | 'kohya' | null;

export interface DatasetPublic {
  name: string;
  path: string;
  layout: DatasetLayout;
  images: number;
  bytes: number;
  source: 'upload' | 'folder';
  status: 'ready' | 'unusable' | 'unreadable';
  usable: number;
  skipped: number;
  created_at: string | null;
  rejected?: RejectedFile[];
}

export interface RejectedFile {
  file: string;
  reason: string;
}

export interface DatasetDetailPublic extends DatasetPublic {
  report: Record<string, unknown>;
  rejected: RejectedFile[];
}

export interface DatasetItemPublic {
  file: string;
  caption: string | null;
}

export interface DatasetItemsPublic {
  items: DatasetItemPublic[];
  total: number;
}

export interface CaptionTemplatePublic {
  name: string;
  template: string;
}

export type FieldType = 'integer' | 'number' | 'boolean' | 'string' | 'enum' | 'list';

export interface TrainingFieldPublic {
  name: string;
  group: string;
  type: FieldType;
  default: unknown;
  minimum: number | null;
  maximum: number | null;
  exclusive_minimum: number | null;
  exclusive_maximum: number | null;
  choices: string[] | null;
  help: string;
}

export interface RecipePublic {
  name: string;
  title: string;
  description: string;
  settings: Record<string, unknown>;
}

export interface RecipesPublic {
  recipes: RecipePublic[];
  fields: TrainingFieldPublic[];
}

export type RunStatus = 'queued' | 'running' | 'stopping' | 'stopped' | 'interrupted' | 'done' | 'error'
  | 'cancelled' | 'finished';

export interface TrainingRunPublic {
  name: string;
  checkpoints: { name: string; step: number | null }[];
  has_final: boolean;
  validation_steps: number[];
  loss_curve_url: string | null;
  status: RunStatus;
  source: 'studio' | 'terminal';
  job_id: string | null;
  position: number | null;
  waiting_reason: string | null;
  error: string | null;
  step: number | null;
  max_steps: number | null;
  loss: number | null;
  lr: number | null;
  steps_per_second: number | null;
  eta_seconds: number | null;
  started_at: string | null;
  finished_at: string | null;
  dataset: string | null;
  base_model: string | null;
  validation_prompts: string[];
  resumable: boolean;
}

export interface RunCreate {
  name: string;
  dataset: string;
  recipe: string;
  settings: Record<string, unknown>;
  validation_prompts?: string[];
}

export interface LogRecord {
  step: number;
  loss?: number | null;
  val_loss?: number | null;
  prior_loss?: number | null;
  lr?: number | null;
  [key: string]: unknown;
}

export interface RunLogPublic {
  records: LogRecord[];
  last_step: number;
}

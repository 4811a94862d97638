// Short names for the contract's schemas (all from the generated client).
import type { components, operations } from '../client';

type Schemas = components['schemas'];
export type GenerateCreate = Schemas['GenerateCreate'];
export type JobPublic = Schemas['JobPublic'];
export type ModelPublic = Schemas['ModelPublic'];
export type GalleryImagePublic = Schemas['GalleryImagePublic'];
export type GalleryImagesPublic = Schemas['GalleryImagesPublic'];
export type HealthPublic = Schemas['HealthPublic'];
export type RunPublic = Schemas['RunPublic'];
export type CheckpointPublic = Schemas['CheckpointPublic'];
export type EvaluationPublic = Schemas['EvaluationPublic'];
export type EvaluationCreate = Schemas['EvaluationCreate'];
export type CatalogueScores = Schemas['CatalogueScores'];
export type MarketplaceRules = Schemas['MarketplaceRules'];
export type RunCreate = Schemas['RunCreate'];
export type RunLogPublic = Schemas['RunLogPublic'];
/** One step of a run's log: its step and what was measured then (loss, lr, val_loss, prior_loss, …). */
export type LogRecord = RunLogPublic['records'][number];
export type RecipePublic = Schemas['RecipePublic'];
export type RecipesPublic = Schemas['RecipesPublic'];
export type SettingFieldPublic = Schemas['SettingFieldPublic'];
export type DatasetPublic = Schemas['DatasetPublic'];
export type DatasetUploadPublic = Schemas['DatasetUploadPublic'];
export type DatasetDetailPublic = Schemas['DatasetDetailPublic'];
export type DatasetReportPublic = Schemas['DatasetReportPublic'];
export type DatasetItemPublic = Schemas['DatasetItemPublic'];
export type DatasetItemsPublic = Schemas['DatasetItemsPublic'];
export type RejectedFilePublic = Schemas['RejectedFilePublic'];
export type CaptionTemplatePublic = Schemas['CaptionTemplatePublic'];
export type HelperModelPublic = Schemas['HelperModelPublic'];
export type GalleryQuery = NonNullable<operations['list_images_api_gallery_get']['parameters']['query']>;
/** A marketplace preset's name, as the gallery's `passes` filter takes it. */
export type PresetName = NonNullable<GalleryQuery['passes']>;
export type GallerySort = NonNullable<GalleryQuery['sort']>;

/** One event of GET /api/jobs/{id}/events: its `event:` line is `event`, its `data:` line the rest. */
export type JobEvent = Schemas['QueuedEvent'] | Schemas['StartedEvent'] | Schemas['ProgressEvent']
  | Schemas['DoneEvent'] | Schemas['ErrorEvent'] | Schemas['CancelledEvent'];

export const FINISHED_EVENTS = ['done', 'error', 'cancelled'] as const;

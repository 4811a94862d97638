// Short names for the contract's schemas (all from the generated client).
import type { components } from '../client';

type Schemas = components['schemas'];
export type GenerateCreate = Schemas['GenerateCreate'];
export type JobPublic = Schemas['JobPublic'];
export type ModelPublic = Schemas['ModelPublic'];
export type GalleryImagePublic = Schemas['GalleryImagePublic'];
export type GalleryImagesPublic = Schemas['GalleryImagesPublic'];
export type HealthPublic = Schemas['HealthPublic'];
export type RunPublic = Schemas['RunPublic'];
export type CheckpointPublic = Schemas['CheckpointPublic'];

/** The payloads of GET /api/jobs/{id}/events (the schema does not describe the stream's events). */
export type JobEvent =
  | { event: 'queued'; position?: number }
  | { event: 'started'; batch_size?: number }
  | { event: 'progress'; step: number; total: number; preview?: string }
  | { event: 'done'; image_ids: string[] }
  | { event: 'error'; error: string }
  | { event: 'cancelled' };

export const FINISHED_EVENTS = ['done', 'error', 'cancelled'] as const;

// TEMPORARY: the issue-16 operations until they are in the OpenAPI schema; then they move into endpoints.ts on the
// typed `call` and this file goes.
import { buildUrl, send } from './http';
import type {
  CaptionTemplatePublic, DatasetDetailPublic, DatasetItemPublic, DatasetItemsPublic, DatasetPublic, RecipesPublic,
  RunCreate, RunLogPublic, TrainingRunPublic,
} from './pendingTypes';

async function json<T>(method: string, url: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const response = await send(method, url, { body, signal });
  return (response.status === 204 ? undefined : await response.json()) as T;
}

const enc = encodeURIComponent;

export const trainingApi = {
  datasets: async (signal?: AbortSignal) =>
    (await json<{ datasets: DatasetPublic[] }>('get', '/api/datasets', undefined, signal)).datasets,
  dataset: (name: string, signal?: AbortSignal) =>
    json<DatasetDetailPublic>('get', `/api/datasets/${enc(name)}`, undefined, signal),
  datasetItems: (name: string, offset: number, limit: number, signal?: AbortSignal) =>
    json<DatasetItemsPublic>('get', buildUrl('/api/datasets/{name}/items', { name }, { offset, limit }), undefined,
      signal),
  uploadDataset: (form: FormData) => json<DatasetPublic>('post', '/api/datasets', form),
  registerDataset: (body: { name: string; path: string }) => json<DatasetPublic>('post', '/api/datasets/register', body),
  saveCaption: (name: string, body: { file: string; caption: string }) =>
    json<DatasetItemPublic>('put', `/api/datasets/${enc(name)}/captions`, body),
  applyTemplate: (name: string, template: string) =>
    json<{ updated: number }>('post', `/api/datasets/${enc(name)}/caption-template`, { template }),
  captionTemplates: (signal?: AbortSignal) =>
    json<CaptionTemplatePublic[]>('get', '/api/datasets/caption-templates', undefined, signal),
  deleteDataset: (name: string) => json<undefined>('delete', `/api/datasets/${enc(name)}`),

  recipes: (signal?: AbortSignal) => json<RecipesPublic>('get', '/api/recipes', undefined, signal),
  trainingRuns: async (signal?: AbortSignal) =>
    (await json<{ runs: TrainingRunPublic[] }>('get', '/api/runs', undefined, signal)).runs,
  run: (name: string, signal?: AbortSignal) => json<TrainingRunPublic>('get', `/api/runs/${enc(name)}`, undefined, signal),
  runLog: (name: string, sinceStep: number, signal?: AbortSignal) =>
    json<RunLogPublic>('get', buildUrl('/api/runs/{name}/log', { name }, { since_step: sinceStep }), undefined, signal),
  startRun: (body: RunCreate) => json<TrainingRunPublic>('post', '/api/runs', body),
  runAction: (name: string, action: 'stop' | 'save' | 'sample' | 'resume') =>
    json<TrainingRunPublic>('post', `/api/runs/${enc(name)}/${action}`),
  setValidationPrompts: (name: string, prompts: string[]) =>
    json<TrainingRunPublic>('put', `/api/runs/${enc(name)}/validation-prompts`, { prompts }),
  deleteRun: (name: string) => json<undefined>('delete', `/api/runs/${enc(name)}`),
};

/** A dataset image for <ApiImage>. */
export function datasetFileUrl(dataset: string, file: string): string {
  return `/api/datasets/${enc(dataset)}/files/${file.split('/').map(enc).join('/')}`;
}

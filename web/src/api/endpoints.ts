// Every operation the UI uses, by name. Paths, parameters and answers are checked against src/client.
import { buildUrl, call, callBlob, callForm, type UploadOptions } from './http';
import type { EvaluationCreate, GalleryImagePublic, GalleryQuery, GenerateCreate, RunCreate, RunPublic } from './types';

export const FALLBACK_SAMPLERS = ['DPM++ 2M Karras', 'DPM++ 2M', 'Euler', 'Euler a', 'DDIM', 'PNDM'];

export const api = {
  health: (signal?: AbortSignal) => call('get', '/api/health', { signal }),
  models: (signal?: AbortSignal) => call('get', '/api/models', { signal }),
  samplers: async (signal?: AbortSignal): Promise<string[]> => {
    const list = await call('get', '/sdapi/v1/samplers', { signal });
    const names = list.map((sampler) => sampler.name).filter(Boolean);
    return names.length ? names : FALLBACK_SAMPLERS;
  },

  /** The ControlNets usable without the hub (folders, the local hub cache, the built-in one). */
  controlnets: (signal?: AbortSignal) => call('get', '/api/controlnets', { signal }),
  /** The hires fix's upscalers: the built-in lanczos and the server's model files. */
  upscalers: (signal?: AbortSignal) => call('get', '/api/upscalers', { signal }),

  createJob: (body: GenerateCreate) => call('post', '/api/jobs', { body }),
  cancelJob: (jobId: string) => call('delete', '/api/jobs/{job_id}', { params: { job_id: jobId } }),
  /** The product mask of a photo (a data URL or base64): a PNG of its size, white on the product. */
  productMask: (image: string, signal?: AbortSignal) =>
    callBlob('post', '/api/masks', { body: { image, method: 'builtin' }, signal }, 'image/png'),

  gallery: (query: GalleryQuery, signal?: AbortSignal) => call('get', '/api/gallery', { query, signal }),
  presets: (signal?: AbortSignal) => call('get', '/api/presets', { signal }),
  galleryImage: (imageId: string) => call('get', '/api/gallery/{image_id}', { params: { image_id: imageId } }),
  galleryModels: (signal?: AbortSignal) => call('get', '/api/gallery/models', { signal }),
  deleteImage: (imageId: string) => call('delete', '/api/gallery/{image_id}', { params: { image_id: imageId } }),
  imageFile: (imageId: string, signal?: AbortSignal) =>
    callBlob('get', '/api/gallery/{image_id}/image', { params: { image_id: imageId }, signal }, 'image/png'),
  exportZip: (ids: string[]) => callBlob('post', '/api/gallery/export', { body: { ids } }, 'application/zip'),
  exportMetadata: (ids: string[]) => call('post', '/api/gallery/metadata', { body: { ids } }),

  runs: async (signal?: AbortSignal): Promise<RunPublic[]> => (await call('get', '/api/runs', { signal })).runs,
  runCaptions: (run: string, signal?: AbortSignal) =>
    call('get', '/api/runs/{run_name}/captions', { params: { run_name: run }, signal }),
  run: (run: string, signal?: AbortSignal) => call('get', '/api/runs/{run_name}', { params: { run_name: run }, signal }),
  runLog: (run: string, sinceStep: number, signal?: AbortSignal) =>
    call('get', '/api/runs/{run_name}/log', { params: { run_name: run }, query: { since_step: sinceStep }, signal }),
  recipes: (signal?: AbortSignal) => call('get', '/api/recipes', { signal }),
  startRun: (body: RunCreate) => call('post', '/api/runs', { body }),
  stopRun: (run: string) => call('post', '/api/runs/{run_name}/stop', { params: { run_name: run } }),
  saveRun: (run: string) => call('post', '/api/runs/{run_name}/save', { params: { run_name: run } }),
  sampleRun: (run: string) => call('post', '/api/runs/{run_name}/sample', { params: { run_name: run } }),
  resumeRun: (run: string) => call('post', '/api/runs/{run_name}/resume', { params: { run_name: run } }),
  /** Queue an evaluation of every checkpoint (scored, the best one picked); cancelled with cancelJob. */
  evaluateRun: (run: string, body: EvaluationCreate) =>
    call('post', '/api/runs/{run_name}/evaluate', { params: { run_name: run }, body }),
  setValidationPrompts: (run: string, prompts: string[]) =>
    call('put', '/api/runs/{run_name}/validation-prompts', { params: { run_name: run }, body: { prompts } }),
  deleteRun: (run: string) => call('delete', '/api/runs/{run_name}', { params: { run_name: run } }),

  datasets: async (signal?: AbortSignal) => (await call('get', '/api/datasets', { signal })).datasets,
  dataset: (name: string, signal?: AbortSignal) => call('get', '/api/datasets/{name}', { params: { name }, signal }),
  datasetItems: (name: string, offset: number, limit: number, signal?: AbortSignal) =>
    call('get', '/api/datasets/{name}/items', { params: { name }, query: { offset, limit }, signal }),
  /** The multipart body: a `name` field and `files` (see pages/datasets/files.ts); its bytes sent reported. */
  uploadDataset: (form: FormData, options: UploadOptions = {}) => callForm('/api/datasets', form, options),
  registerDataset: (body: { name: string; path: string }) => call('post', '/api/datasets/register', { body }),
  saveCaption: (name: string, file: string, caption: string) =>
    call('put', '/api/datasets/{name}/captions', { params: { name }, body: { file, caption } }),
  applyCaptionTemplate: (name: string, template: string) =>
    call('post', '/api/datasets/{name}/caption-template', { params: { name }, body: { template } }),
  captionTemplates: (signal?: AbortSignal) => call('get', '/api/datasets/caption-templates', { signal }),
  deleteDataset: (name: string) => call('delete', '/api/datasets/{name}', { params: { name } }),
};

/**
 * Pictures shown with <img> (through ApiImage, which adds the key): a run's validation sheet at a step. The
 * loss curve's address comes with each run (`RunPublic.loss_curve_url`).
 */
export function validationSheetUrl(run: string, step: number): string {
  return buildUrl('/api/runs/{run_name}/validation/{step}', { run_name: run, step });
}

/** The images of a finished job, in the job's order (image i has seed + i). */
export async function jobImages(jobId: string, imageIds: string[]): Promise<GalleryImagePublic[]> {
  const page = await api.gallery({ job_id: jobId, limit: Math.max(imageIds.length, 1) });
  const byId = new Map(page.items.map((item) => [item.id, item]));
  const missing = imageIds.filter((id) => !byId.has(id));
  for (const id of missing) byId.set(id, await api.galleryImage(id)); // only if the filter missed some
  return imageIds.map((id) => byId.get(id)).filter((item): item is GalleryImagePublic => item !== undefined);
}

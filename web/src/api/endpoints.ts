// Every operation the UI uses, by name. Paths, parameters and answers are checked against src/client.
import { buildUrl, call, callBlob } from './http';
import type { GalleryImagePublic, GalleryQuery, GenerateCreate, RunPublic } from './types';

export const FALLBACK_SAMPLERS = ['DPM++ 2M Karras', 'DPM++ 2M', 'Euler', 'Euler a', 'DDIM', 'PNDM'];

export const api = {
  health: (signal?: AbortSignal) => call('get', '/api/health', { signal }),
  models: (signal?: AbortSignal) => call('get', '/api/models', { signal }),
  samplers: async (signal?: AbortSignal): Promise<string[]> => {
    const list = await call('get', '/sdapi/v1/samplers', { signal });
    const names = list.map((sampler) => sampler.name).filter(Boolean);
    return names.length ? names : FALLBACK_SAMPLERS;
  },

  createJob: (body: GenerateCreate) => call('post', '/api/jobs', { body }),
  cancelJob: (jobId: string) => call('delete', '/api/jobs/{job_id}', { params: { job_id: jobId } }),

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

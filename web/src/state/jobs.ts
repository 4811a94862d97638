// The jobs this browser tab started: submitted, followed over SSE, and resolved to gallery images.
import { useCallback, useReducer, useRef } from 'react';
import { jobImages, api } from '../api/endpoints';
import { toApiError } from '../api/http';
import { followJob } from '../api/jobs';
import type { GalleryImagePublic, GenerateCreate, JobEvent } from '../api/types';

export type JobStatus = 'queued' | 'running' | 'cancelling' | 'done' | 'error' | 'cancelled';

export interface TrackedJob {
  id: string;
  origin: 'generate' | 'compare';
  body: GenerateCreate;
  status: JobStatus;
  step: number;
  total: number;
  position: number | null;
  /** data: URL of the latest preview, when the server sends previews (SHOEGEN_PREVIEW_EVERY). */
  preview: string | null;
  imageIds: string[];
  images: GalleryImagePublic[] | null;
  error: string | null;
  createdAt: number;
  finishedAt: number | null;
}

type Action =
  | { type: 'add'; job: TrackedJob }
  | { type: 'event'; id: string; event: JobEvent }
  | { type: 'images'; id: string; images: GalleryImagePublic[] }
  | { type: 'failed'; id: string; error: string }
  | { type: 'cancelling'; id: string }
  | { type: 'dismiss'; id: string };

export interface JobsState {
  order: string[];
  byId: Record<string, TrackedJob>;
}

function applyEvent(job: TrackedJob, event: JobEvent): TrackedJob {
  switch (event.event) {
    case 'queued':
      return { ...job, status: job.status === 'cancelling' ? job.status : 'queued', position: event.position ?? null };
    case 'started':
      return { ...job, status: job.status === 'cancelling' ? job.status : 'running', position: null };
    case 'progress':
      return { ...job, status: job.status === 'cancelling' ? job.status : 'running', step: event.step,
        total: event.total || job.total, preview: event.preview ? `data:image/png;base64,${event.preview}` : job.preview };
    case 'done':
      return { ...job, status: 'done', step: job.total, imageIds: event.image_ids, finishedAt: Date.now() };
    case 'error':
      return { ...job, status: 'error', error: event.error, finishedAt: Date.now() };
    case 'cancelled':
      return { ...job, status: 'cancelled', finishedAt: Date.now() };
  }
}

export function jobsReducer(state: JobsState, action: Action): JobsState {
  if (action.type === 'add') {
    return { order: [action.job.id, ...state.order], byId: { ...state.byId, [action.job.id]: action.job } };
  }
  if (action.type === 'dismiss') {
    const { [action.id]: _removed, ...rest } = state.byId;
    return { order: state.order.filter((id) => id !== action.id), byId: rest };
  }
  const job = state.byId[action.id];
  if (!job) return state;
  let next: TrackedJob;
  if (action.type === 'event') next = applyEvent(job, action.event);
  else if (action.type === 'images') next = { ...job, images: action.images };
  else if (action.type === 'failed') next = { ...job, status: 'error', error: action.error, finishedAt: Date.now() };
  else next = job.status === 'queued' || job.status === 'running' ? { ...job, status: 'cancelling' } : job;
  return { ...state, byId: { ...state.byId, [action.id]: next } };
}

export function isActive(job: TrackedJob): boolean {
  return job.status === 'queued' || job.status === 'running' || job.status === 'cancelling';
}

export function useJobs() {
  const [state, dispatch] = useReducer(jobsReducer, { order: [], byId: {} });
  const following = useRef(new Set<string>());

  /** Submit a job (errors are thrown to the caller, e.g. the form) and follow it in the background. */
  const startJob = useCallback(async (body: GenerateCreate, origin: TrackedJob['origin']): Promise<string> => {
    const created = await api.createJob(body);
    dispatch({ type: 'add', job: {
      id: created.id, origin, body, status: 'queued', step: created.step, total: created.total_steps,
      position: null, preview: null, imageIds: [], images: null, error: null, createdAt: Date.now(), finishedAt: null,
    } });
    if (!following.current.has(created.id)) {
      following.current.add(created.id);
      void (async () => {
        try {
          const final = await followJob(created.id, (event) => dispatch({ type: 'event', id: created.id, event }));
          if (final.event === 'done') {
            dispatch({ type: 'images', id: created.id, images: await jobImages(created.id, final.image_ids) });
          }
        } catch (error) {
          dispatch({ type: 'failed', id: created.id, error: toApiError(error).message });
        } finally {
          following.current.delete(created.id);
        }
      })();
    }
    return created.id;
  }, []);

  const cancelJob = useCallback(async (id: string) => {
    dispatch({ type: 'cancelling', id });
    await api.cancelJob(id); // the event stream then reports "cancelled"
  }, []);

  const dismissJob = useCallback((id: string) => dispatch({ type: 'dismiss', id }), []);

  return { jobs: state, startJob, cancelJob, dismissJob };
}

// The jobs this browser tab started: submitted, followed over SSE, and resolved to gallery images. Their
// state lives here (the server has no "jobs of this tab" list); the actions are in a context of their own.
import { useQueryClient } from '@tanstack/react-query';
import { createContext, useMemo, useReducer, useRef, type ReactNode } from 'react';
import { api, jobImages } from '../api/endpoints';
import { queryKeys } from '../api/queries';
import { toApiError } from '../api/http';
import { followJob } from '../api/jobs';
import type { GalleryImagePublic, GenerateCreate, JobEvent } from '../api/types';
import { useProvided } from './createStateContext';

export type JobStatus = 'queued' | 'running' | 'cancelling' | 'done' | 'error' | 'cancelled';

export interface TrackedJob {
  id: string;
  origin: 'generate' | 'compare' | 'photo';
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

/** What the job card and the comparison grid say about a job's state. */
export function statusLine(job: TrackedJob): string {
  if (job.status === 'queued') return job.position ? `Queued · position ${job.position}` : 'Queued';
  if (job.status === 'running') return job.total ? `Generating · step ${job.step} of ${job.total}` : 'Starting…';
  if (job.status === 'done') {
    const seconds = job.finishedAt ? ((job.finishedAt - job.createdAt) / 1000).toFixed(1) : null;
    return seconds ? `Done in ${seconds} s` : 'Done';
  }
  return STATUS_TEXT[job.status];
}

export const STATUS_TEXT: Record<JobStatus, string> = {
  queued: 'Queued',
  running: 'Generating',
  cancelling: 'Cancelling…',
  done: 'Done',
  error: 'Failed',
  cancelled: 'Cancelled',
};

export interface JobActions {
  /** Submit a job (errors are thrown to the caller, e.g. the form) and follow it in the background. */
  startJob: (body: GenerateCreate, origin: TrackedJob['origin']) => Promise<string>;
  cancelJob: (id: string) => Promise<void>;
  dismissJob: (id: string) => void;
}

const JobsContext = createContext<JobsState | null>(null);
const JobActionsContext = createContext<JobActions | null>(null);

export function JobsProvider({ children }: { children: ReactNode }) {
  const [state, dispatch] = useReducer(jobsReducer, { order: [], byId: {} });
  const following = useRef(new Set<string>());
  const queryClient = useQueryClient();

  const actions = useMemo<JobActions>(() => {
    const follow = async (id: string) => {
      try {
        const final = await followJob(id, (event) => dispatch({ type: 'event', id, event }));
        if (final.event === 'done') {
          void queryClient.invalidateQueries({ queryKey: queryKeys.gallery }); // the gallery has new images
          dispatch({ type: 'images', id, images: await jobImages(id, final.image_ids) });
        }
      } catch (error) {
        dispatch({ type: 'failed', id, error: toApiError(error).message });
      } finally {
        following.current.delete(id);
      }
    };
    return {
      startJob: async (body, origin) => {
        const created = await api.createJob(body);
        dispatch({ type: 'add', job: {
          id: created.id, origin, body, status: 'queued', step: created.step, total: created.total_steps,
          position: null, preview: null, imageIds: [], images: null, error: null, createdAt: Date.now(),
          finishedAt: null,
        } });
        if (!following.current.has(created.id)) {
          following.current.add(created.id);
          void follow(created.id);
        }
        return created.id;
      },
      cancelJob: async (id) => {
        dispatch({ type: 'cancelling', id });
        await api.cancelJob(id); // the event stream then reports "cancelled"
      },
      dismissJob: (id) => dispatch({ type: 'dismiss', id }),
    };
  }, [queryClient]);

  return (
    <JobActionsContext.Provider value={actions}>
      <JobsContext.Provider value={state}>{children}</JobsContext.Provider>
    </JobActionsContext.Provider>
  );
}

/** The jobs this tab started, newest first (re-renders on every event of every job). */
export function useJobs(): JobsState {
  return useProvided(JobsContext, 'useJobs outside JobsProvider');
}

/** Start, cancel and dismiss jobs (never changes: no re-render on job events). */
export function useJobActions(): JobActions {
  return useProvided(JobActionsContext, 'useJobActions outside JobsProvider');
}

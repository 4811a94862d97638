// The server's state, read through TanStack Query: one key and one hook per thing the UI shows. Answers are
// cached and shared by every component that asks; `queryKeys` is what invalidation names.
import { keepPreviousData, queryOptions, useInfiniteQuery, useQuery } from '@tanstack/react-query';
import type { NativeSize } from '../lib/form';
import { api, FALLBACK_SAMPLERS } from './endpoints';
import type { GallerySort, MarketplaceRules, PresetName, RunPublic } from './types';

export const GALLERY_PAGE_SIZE = 24;

/** The gallery's filters as the URL holds them: dates are local days (YYYY-MM-DD), '' means no filter. */
export interface GalleryFilters {
  q: string;
  model: string;
  from: string;
  to: string;
  /** A marketplace preset the images must pass, '' for any. */
  passes: string;
  sort: GallerySort;
}

export const queryKeys = {
  models: ['models'] as const,
  samplers: ['samplers'] as const,
  health: ['health'] as const,
  runs: ['runs'] as const,
  runCaptions: (run: string) => ['runs', run, 'captions'] as const,
  gallery: ['gallery'] as const,
  galleryModels: ['gallery', 'models'] as const,
  galleryImages: (filters: GalleryFilters) => ['gallery', 'images', filters] as const,
  presets: ['presets'] as const,
  datasets: ['datasets'] as const,
  dataset: (name: string) => ['datasets', name] as const,
  datasetItems: (name: string, page: number) => ['datasets', name, 'items', page] as const,
  captionTemplates: ['caption-templates'] as const,
  recipes: ['recipes'] as const,
  controlnets: ['controlnets'] as const,
  upscalers: ['upscalers'] as const,
  run: (name: string) => ['runs', name] as const,
  runLog: (name: string) => ['runs', name, 'log'] as const,
};

// The models list is also the connection check (see state/connection.ts): asked again only when the key
// changes, the user retries, or another request finds the server gone or the key refused.
const modelsQuery = queryOptions({
  queryKey: queryKeys.models,
  queryFn: ({ signal }) => api.models(signal),
  staleTime: Infinity,
});

export function useModels() {
  return useQuery({ ...modelsQuery, select: (answer) => answer.models });
}

export function useBaseModel(): string | null {
  const { data } = useQuery({
    ...modelsQuery,
    select: (answer) => answer.models.find((m) => m.type === 'base')?.name ?? null, // re-renders on change only
  });
  return data ?? null;
}

/** The base model's native size, every request's default (64 px for the demo and tiny bases, 512 for SD1.5). */
export function useNativeSize(): NativeSize | null {
  const { data } = useQuery({
    ...modelsQuery,
    select: (answer) => ({ width: answer.native_width, height: answer.native_height, far: answer.far_from_native }),
  });
  return data ?? null;
}

export function useSamplers(): string[] {
  const { isSuccess: connected } = useModels();
  const { data } = useQuery({
    queryKey: queryKeys.samplers,
    queryFn: ({ signal }) => api.samplers(signal).catch(() => FALLBACK_SAMPLERS),
    enabled: connected,
    staleTime: Infinity,
  });
  return data ?? FALLBACK_SAMPLERS;
}

/** What a request can name as a ControlNet or an upscaler; files copied onto the server show up within a minute. */
export function useHelperModels(kind: 'controlnets' | 'upscalers') {
  const { isSuccess: connected } = useModels();
  return useQuery({
    queryKey: queryKeys[kind],
    queryFn: ({ signal }) => api[kind](signal),
    enabled: connected,
    staleTime: 60_000,
  });
}

export function useHealth(enabled: boolean) {
  return useQuery({ queryKey: queryKeys.health, queryFn: () => api.health().catch(() => null), enabled });
}

export const RUNS_POLL_MS = 2000;

/** A run queued, training or stopping: its views follow it. */
export function isLive(run: Pick<RunPublic, 'status'>): boolean {
  return run.status === 'queued' || run.status === 'running' || run.status === 'stopping';
}

/** An evaluation that is queued or running: its run's card follows it. */
export function isEvaluating(run: Pick<RunPublic, 'evaluation'>): boolean {
  return run.evaluation?.status === 'queued' || run.evaluation?.status === 'running';
}

/** The runs, asked again every few seconds while one of them trains or is being evaluated. */
export function useRuns() {
  return useQuery({ queryKey: queryKeys.runs, queryFn: ({ signal }) => api.runs(signal),
    refetchInterval: (query) => (query.state.data?.some((run) => isLive(run) || isEvaluating(run)) ? RUNS_POLL_MS
      : false) });
}

/** Whole captions of a run's training data (none for the base model, or when the run has none). */
export function useRunCaptions(run: string): string[] {
  const { data } = useQuery({
    queryKey: queryKeys.runCaptions(run),
    queryFn: ({ signal }) => api.runCaptions(run, signal).catch(() => [] as string[]),
    enabled: run !== '',
  });
  return run ? data ?? [] : [];
}

/** The models that made the gallery's images, for its model filter. */
export function useGalleryModels(): string[] {
  const { data } = useQuery({
    queryKey: queryKeys.galleryModels,
    queryFn: ({ signal }) => api.galleryModels(signal).catch(() => [] as string[]),
  });
  return data ?? [];
}

/** A date input's value (local day) as an ISO instant; `endOfDay` moves to the next midnight. */
export function dayToIso(day: string, endOfDay = false): string | null {
  if (!day) return null;
  const date = new Date(`${day}T00:00:00`);
  if (Number.isNaN(date.getTime())) return null;
  if (endOfDay) date.setDate(date.getDate() + 1);
  return date.toISOString();
}

/** The marketplace presets images are scored against (for the gallery's filter and the viewer's names). */
export function usePresets(): MarketplaceRules[] {
  const { data } = useQuery({
    queryKey: queryKeys.presets,
    queryFn: ({ signal }) => api.presets(signal).catch(() => [] as MarketplaceRules[]),
    staleTime: Infinity,
  });
  return data ?? [];
}

/** The gallery's images matching `filters`, newest or best score first, a page of GALLERY_PAGE_SIZE at a time. */
export function useGalleryImages(filters: GalleryFilters) {
  return useInfiniteQuery({
    queryKey: queryKeys.galleryImages(filters),
    queryFn: ({ pageParam, signal }) => api.gallery({
      q: filters.q || null, model: filters.model || null, created_after: dayToIso(filters.from),
      created_before: dayToIso(filters.to, true), offset: pageParam, limit: GALLERY_PAGE_SIZE,
      // A preset the server does not know (an old bookmark) is its 422, shown like any other error.
      passes: (filters.passes || null) as PresetName | null, sort: filters.sort,
    }, signal),
    initialPageParam: 0,
    getNextPageParam: (last, pages) => {
      const loaded = pages.reduce((count, page) => count + page.items.length, 0);
      return last.items.length > 0 && loaded < last.total ? loaded : undefined;
    },
    // While another filter's answer is on its way, the images of the previous one stay on screen.
    placeholderData: keepPreviousData,
  });
}

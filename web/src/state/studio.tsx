// App-wide state shared by the pages: the API key and connection, models and samplers, jobs, the generate
// form (kept while switching pages), toasts, and the image viewer.
import { createContext, useCallback, useContext, useEffect, useRef, useState, type ReactNode } from 'react';
import { api, FALLBACK_SAMPLERS } from '../api/endpoints';
import { ApiError, getApiKey, setApiKey, toApiError } from '../api/http';
import type { GalleryImagePublic, ModelPublic } from '../api/types';
import { DEFAULT_FORM, formFromImage, type GenerateForm } from '../lib/form';
import { clearImageCache } from '../components/ApiImage';
import { useJobs } from './jobs';

export type Page = 'generate' | 'gallery' | 'models';
export const PAGES: Page[] = ['generate', 'gallery', 'models'];

export interface Toast {
  id: number;
  text: string;
  tone: 'info' | 'error';
}

export type Connection = 'checking' | 'online' | 'needs-key' | 'offline' | 'error';

function pageFromHash(hash: string): Page {
  const name = hash.replace(/^#\/?/, '').split(/[/?]/)[0];
  return (PAGES as string[]).includes(name) ? (name as Page) : 'generate';
}

function useStudioState() {
  const [page, setPage] = useState<Page>(() => pageFromHash(window.location.hash));
  const [apiKey, setKeyState] = useState(getApiKey);
  const [authVersion, setAuthVersion] = useState(0);
  const [connection, setConnection] = useState<Connection>('checking');
  const [connectionError, setConnectionError] = useState<ApiError | null>(null);
  const [settingsOpen, setSettingsOpen] = useState(false);
  const [models, setModels] = useState<ModelPublic[]>([]);
  const [samplers, setSamplers] = useState<string[]>(FALLBACK_SAMPLERS);
  const [form, setForm] = useState<GenerateForm>(DEFAULT_FORM);
  const [toasts, setToasts] = useState<Toast[]>([]);
  const [viewer, setViewer] = useState<{ images: GalleryImagePublic[]; index: number } | null>(null);
  const sizeDefaulted = useRef(false);
  const jobs = useJobs();

  useEffect(() => {
    const onHash = () => setPage(pageFromHash(window.location.hash));
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  const navigate = useCallback((next: Page) => {
    if (window.location.hash !== `#/${next}`) window.location.hash = `/${next}`;
    setPage(next);
  }, []);

  const toast = useCallback((text: string, tone: Toast['tone'] = 'info') => {
    const id = Date.now() + Math.random();
    setToasts((list) => [...list.slice(-3), { id, text, tone }]);
    setTimeout(() => setToasts((list) => list.filter((t) => t.id !== id)), tone === 'error' ? 8000 : 4000);
  }, []);

  /** Pages report API failures here: a 401 anywhere flips the app into "needs a key". */
  const reportError = useCallback((error: unknown) => {
    const apiError = toApiError(error);
    if (apiError.kind === 'unauthorized') setConnection('needs-key');
    else if (apiError.kind === 'network') setConnection('offline');
    return apiError;
  }, []);

  const saveKey = useCallback((key: string) => {
    setApiKey(key);
    setKeyState(getApiKey());
    clearImageCache();
    setAuthVersion((v) => v + 1);
  }, []);

  // Connect: models (they need the key when one is set) and samplers, again whenever the key changes.
  useEffect(() => {
    const controller = new AbortController();
    setConnection('checking');
    (async () => {
      try {
        const list = await api.models(controller.signal);
        setModels(list);
        setConnection('online');
        setConnectionError(null);
        const base = list.find((m) => m.type === 'base');
        // The built-in tiny base makes 64 px images: start the form there (once, before the user touches it).
        if (base?.name === 'tiny' && !sizeDefaulted.current) {
          sizeDefaulted.current = true;
          setForm((f) => (f.width === DEFAULT_FORM.width && f.height === DEFAULT_FORM.height
            ? { ...f, width: '64', height: '64' } : f));
        }
        setSamplers(await api.samplers(controller.signal).catch(() => FALLBACK_SAMPLERS));
      } catch (error) {
        if (controller.signal.aborted) return;
        const apiError = toApiError(error);
        setConnectionError(apiError);
        setConnection(apiError.kind === 'unauthorized' ? 'needs-key' : apiError.kind === 'network' ? 'offline'
          : 'error');
        if (apiError.kind === 'unauthorized') setSettingsOpen(true);
      }
    })();
    return () => controller.abort();
  }, [authVersion]);

  const retryConnection = useCallback(() => setAuthVersion((v) => v + 1), []);
  const baseModel = models.find((m) => m.type === 'base')?.name ?? null;

  const applySettingsOf = useCallback((image: GalleryImagePublic) => {
    const { form: next, notes } = formFromImage(image, form, baseModel);
    setForm(next);
    setViewer(null);
    navigate('generate');
    toast(notes.length ? `Settings loaded. ${notes.join(' ')}` : 'Settings loaded into the form.');
  }, [form, baseModel, navigate, toast]);

  return {
    page, navigate, apiKey, saveKey, authVersion, connection, connectionError, retryConnection, settingsOpen,
    setSettingsOpen, models, baseModel, samplers, form, setForm, toasts, toast, reportError, viewer, setViewer,
    applySettingsOf, ...jobs,
  };
}

export type Studio = ReturnType<typeof useStudioState>;
const StudioContext = createContext<Studio | null>(null);

export function StudioProvider({ children }: { children: ReactNode }) {
  const state = useStudioState();
  return <StudioContext.Provider value={state}>{children}</StudioContext.Provider>;
}

export function useStudio(): Studio {
  const value = useContext(StudioContext);
  if (!value) throw new Error('useStudio outside StudioProvider');
  return value;
}

/** A stable model label: "shoes · checkpoint 4" for "shoes/checkpoint-4". */
export function modelLabel(model: ModelPublic | string, baseModel?: string | null): string {
  const name = typeof model === 'string' ? model : model.name;
  if (!name || name === baseModel) return `${name || baseModel || 'base'} (base model)`;
  const match = /^(.*)\/checkpoint-(\d+)$/.exec(name);
  if (match) return `${match[1]} · checkpoint ${match[2]}`;
  return typeof model !== 'string' && model.type === 'final' ? `${name} (final)` : name;
}


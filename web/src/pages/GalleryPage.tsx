// Everything generated, from the server: search by prompt, filter by model and date, page through with
// infinite scroll, and act on a selection (ZIP, metadata JSON, delete).
import { useCallback, useEffect, useRef, useState } from 'react';
import { api } from '../api/endpoints';
import { toApiError, type ApiError } from '../api/http';
import type { GalleryImagePublic } from '../api/types';
import { ApiImage } from '../components/ApiImage';
import { ErrorNotice } from '../components/ErrorNotice';
import { ConfirmDialog } from '../components/Modal';
import { formatDate, saveBlob, timestampForFile } from '../lib/browser';
import { modelLabel, useStudio } from '../state/studio';

export const PAGE_SIZE = 24;

function useDebounced<T>(value: T, ms: number): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return debounced;
}

/** A date input's value (local day) as an ISO instant; `endOfDay` moves to the next midnight. */
function dayToIso(day: string, endOfDay = false): string | null {
  if (!day) return null;
  const date = new Date(`${day}T00:00:00`);
  if (Number.isNaN(date.getTime())) return null;
  if (endOfDay) date.setDate(date.getDate() + 1);
  return date.toISOString();
}

export function GalleryPage() {
  const { setViewer, setSettingsOpen, reportError, toast, baseModel, authVersion, jobs } = useStudio();
  const [search, setSearch] = useState('');
  const [model, setModel] = useState('');
  const [after, setAfter] = useState('');
  const [before, setBefore] = useState('');
  const [items, setItems] = useState<GalleryImagePublic[]>([]);
  const [total, setTotal] = useState(0);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [modelOptions, setModelOptions] = useState<string[]>([]);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [confirming, setConfirming] = useState(false);
  const [working, setWorking] = useState<string | null>(null);
  const q = useDebounced(search.trim(), 300);
  const request = useRef(0);
  const sentinel = useRef<HTMLDivElement>(null);
  const doneJobs = jobs.order.filter((id) => jobs.byId[id].status === 'done').length;

  const load = useCallback(async (offset: number) => {
    const ticket = ++request.current;
    setLoading(true);
    try {
      const page = await api.gallery({ q: q || null, model: model || null, created_after: dayToIso(after),
        created_before: dayToIso(before, true), offset, limit: PAGE_SIZE });
      if (ticket !== request.current) return; // a newer filter superseded this answer
      setItems((current) => (offset === 0 ? page.items : [...current, ...page.items.filter(
        (item) => !current.some((c) => c.id === item.id))]));
      setTotal(page.total);
      setError(null);
    } catch (failure) {
      if (ticket === request.current) setError(reportError(failure));
    } finally {
      if (ticket === request.current) setLoading(false);
    }
  }, [q, model, after, before, reportError]);

  useEffect(() => {
    void load(0);
  }, [load, authVersion, doneJobs]);

  useEffect(() => {
    api.galleryModels().then(setModelOptions, () => setModelOptions([]));
  }, [authVersion, doneJobs]);

  // Infinite scroll: the sentinel below the grid asks for the next page when it comes into view.
  const hasMore = items.length < total;
  useEffect(() => {
    const node = sentinel.current;
    if (!node || !hasMore || loading || typeof IntersectionObserver === 'undefined') return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) void load(items.length);
    }, { rootMargin: '400px' });
    observer.observe(node);
    return () => observer.disconnect();
  }, [hasMore, loading, items.length, load]);

  const toggle = (id: string) => setSelected((current) => {
    const next = new Set(current);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    return next;
  });
  const ids = [...selected];
  const allLoadedSelected = items.length > 0 && items.every((item) => selected.has(item.id));

  const act = async (label: string, action: () => Promise<void>) => {
    setWorking(label);
    try {
      await action();
    } catch (failure) {
      const apiError = reportError(failure);
      setError(apiError);
      toast(apiError.message, 'error');
    } finally {
      setWorking(null);
    }
  };

  const downloadZip = () => act('zip', async () => {
    saveBlob(await api.exportZip(ids), `shoegen-gallery-${timestampForFile()}.zip`);
    toast(`ZIP of ${ids.length} image${ids.length === 1 ? '' : 's'} downloaded.`);
  });
  const exportMetadata = () => act('metadata', async () => {
    const records = await api.exportMetadata(ids);
    saveBlob(new Blob([JSON.stringify(records, null, 2)], { type: 'application/json' }),
      `shoegen-metadata-${timestampForFile()}.json`);
    toast(`Metadata of ${records.length} image${records.length === 1 ? '' : 's'} exported.`);
  });
  const deleteSelected = () => act('delete', async () => {
    const deleted: string[] = [];
    try {
      for (const id of ids) {
        try {
          await api.deleteImage(id);
          deleted.push(id);
        } catch (failure) {
          if (toApiError(failure).kind !== 'not_found') throw failure; // already gone counts as deleted
          deleted.push(id);
        }
      }
    } finally {
      setItems((current) => current.filter((item) => !deleted.includes(item.id)));
      setTotal((t) => Math.max(0, t - deleted.length));
      setSelected((current) => new Set([...current].filter((id) => !deleted.includes(id))));
      setConfirming(false);
    }
    toast(`Deleted ${deleted.length} image${deleted.length === 1 ? '' : 's'}.`);
  });

  const filtersActive = Boolean(q || model || after || before);
  return (
    <section className="gallery-page" aria-labelledby="gallery-title">
      <div className="page-head">
        <h1 id="gallery-title" className="panel-title">Gallery</h1>
        <p className="muted" aria-live="polite" data-testid="gallery-count">
          {loading && items.length === 0 ? 'Loading…' : `${total} image${total === 1 ? '' : 's'}`}
          {filtersActive ? ' match the filters' : ''}
        </p>
      </div>

      <form className="filters" role="search" aria-label="Filter the gallery" onSubmit={(e) => e.preventDefault()}>
        <div className="field grow">
          <label htmlFor="gallery-search">Search prompts</label>
          <input id="gallery-search" type="search" value={search} placeholder="e.g. brown suede loafers"
            onChange={(e) => setSearch(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="gallery-model">Model</label>
          <select id="gallery-model" value={model} onChange={(e) => setModel(e.target.value)}>
            <option value="">All models</option>
            {modelOptions.map((m) => <option key={m} value={m}>{modelLabel(m, baseModel)}</option>)}
          </select>
        </div>
        <div className="field">
          <label htmlFor="gallery-after">From</label>
          <input id="gallery-after" type="date" value={after} onChange={(e) => setAfter(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="gallery-before">To</label>
          <input id="gallery-before" type="date" value={before} onChange={(e) => setBefore(e.target.value)} />
        </div>
        {filtersActive && (
          <button type="button" className="btn btn-ghost" onClick={() => { setSearch(''); setModel(''); setAfter('');
            setBefore(''); }}>Clear filters</button>
        )}
      </form>

      <div className={`selection-bar ${selected.size ? 'active' : ''}`} role="toolbar" aria-label="Selection actions">
        <span className="selection-count" data-testid="selection-count">
          {selected.size ? `${selected.size} selected` : 'Select images to download or delete them'}
        </span>
        <button type="button" className="btn btn-small" disabled={!items.length}
          onClick={() => setSelected(allLoadedSelected ? new Set() : new Set([...selected, ...items.map((i) => i.id)]))}>
          {allLoadedSelected ? 'Unselect all' : 'Select all loaded'}
        </button>
        {selected.size > 0 && (
          <>
            <button type="button" className="btn btn-small" onClick={() => setSelected(new Set())}>Clear selection</button>
            <span className="spacer" />
            <button type="button" className="btn btn-small btn-primary" onClick={downloadZip} disabled={working !== null}>
              {working === 'zip' ? 'Preparing…' : 'Download ZIP'}
            </button>
            <button type="button" className="btn btn-small" onClick={exportMetadata} disabled={working !== null}>
              {working === 'metadata' ? 'Exporting…' : 'Export metadata'}
            </button>
            <button type="button" className="btn btn-small btn-danger" onClick={() => setConfirming(true)}
              disabled={working !== null}>Delete…</button>
          </>
        )}
      </div>

      <ErrorNotice error={error} onEnterKey={() => setSettingsOpen(true)} onRetry={() => void load(0)}
        onDismiss={() => setError(null)} />

      {!loading && items.length === 0 && !error ? (
        <div className="empty-state">
          <p><strong>{filtersActive ? 'Nothing matches these filters.' : 'The gallery is empty.'}</strong></p>
          <p className="muted">{filtersActive ? 'Try fewer words or another model.'
            : 'Images you generate are kept here, with all their settings.'}</p>
        </div>
      ) : (
        <ul className="gallery-grid" aria-label="Gallery images">
          {items.map((item, index) => {
            const checked = selected.has(item.id);
            return (
              <li key={item.id} className={`gallery-card ${checked ? 'selected' : ''}`} data-testid="gallery-card">
                <label className="select-box">
                  <input type="checkbox" checked={checked} onChange={() => toggle(item.id)} />
                  <span className="visually-hidden">Select image {index + 1}: {item.prompt.slice(0, 60)}</span>
                </label>
                <button type="button" className="thumb" onClick={() => setViewer({ images: items, index })}
                  aria-label={`Open image ${index + 1}: ${item.prompt.slice(0, 80)}`}>
                  <ApiImage src={item.image_url} alt={item.prompt} width={item.width} height={item.height}
                    aspectRatio="1 / 1" />
                </button>
                <div className="card-body">
                  <p className="card-prompt" title={item.prompt}>{item.prompt}</p>
                  <p className="card-meta muted">
                    <span>{modelLabel(item.model, baseModel)}</span>
                    <span>seed {item.seed} · {item.width}×{item.height}</span>
                    <span>{formatDate(item.created_at)}</span>
                  </p>
                </div>
              </li>
            );
          })}
        </ul>
      )}
      <div ref={sentinel} className="load-more">
        {hasMore && (
          <button type="button" className="btn" onClick={() => void load(items.length)} disabled={loading}>
            {loading ? 'Loading…' : `Load more (${total - items.length} left)`}
          </button>
        )}
      </div>

      <ConfirmDialog open={confirming} title={`Delete ${selected.size} image${selected.size === 1 ? '' : 's'}?`}
        message={`${selected.size === 1 ? 'The image and its file are' : 'The images and their files are'} removed from the
          server. This cannot be undone.`.replace(/\s+/g, ' ')}
        confirmLabel="Delete" busy={working === 'delete'} onCancel={() => setConfirming(false)}
        onConfirm={deleteSelected} />
    </section>
  );
}

// Everything generated, from the server: search by prompt, filter by model, date and preset, sort by date or
// score (all in the URL), page through with infinite scroll, and act on a selection (ZIP, metadata JSON, delete).
import { useEffect, useRef, useState } from 'react';
import { toApiError, type ApiError } from '../../api/http';
import { ErrorNotice } from '../../components/ErrorNotice';
import { useSetSettingsOpen } from '../../state/dialogs';
import { GalleryFilters } from './GalleryFilters';
import { GalleryGrid } from './GalleryGrid';
import { filtersActive } from './search';
import { SelectionBar } from './SelectionBar';
import { useGallerySearch, useShownImages } from './useGallery';

/** Infinite scroll: the sentinel below the grid asks for the next page when it comes into view. */
function LoadMore({ hasMore, loading, left, onMore }: { hasMore: boolean; loading: boolean; left: number;
  onMore: () => void }) {
  const sentinel = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const node = sentinel.current;
    if (!node || !hasMore || loading || typeof IntersectionObserver === 'undefined') return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) onMore();
    }, { rootMargin: '400px' });
    observer.observe(node);
    return () => observer.disconnect();
  }, [hasMore, loading, onMore]);
  return (
    <div ref={sentinel} className="load-more">
      {hasMore && (
        <button type="button" className="btn" onClick={onMore} disabled={loading}>
          {loading ? 'Loading…' : `Load more (${left} left)`}
        </button>
      )}
    </div>
  );
}

export function GalleryPage() {
  const { search, update } = useGallerySearch();
  const { items, total, hasMore, loading, error: loadError, errorUpdatedAt, loadMore, retry } = useShownImages(
    search, update);
  const setSettingsOpen = useSetSettingsOpen();
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [actionError, setActionError] = useState<ApiError | null>(null);
  const [dismissedAt, setDismissedAt] = useState(0);
  const error = actionError ?? (loadError && errorUpdatedAt !== dismissedAt ? toApiError(loadError) : null);
  const active = filtersActive(search);

  const toggle = (id: string) => setSelected((current) => {
    const next = new Set(current);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    return next;
  });

  return (
    <section className="gallery-page" aria-labelledby="gallery-title">
      <div className="page-head">
        <h1 id="gallery-title" className="panel-title">Gallery</h1>
        <p className="muted" aria-live="polite" data-testid="gallery-count">
          {loading && items.length === 0 ? 'Loading…' : `${total} image${total === 1 ? '' : 's'}`}
          {active ? ' match the filters' : ''}
        </p>
      </div>

      <GalleryFilters search={search} update={update} />
      <SelectionBar items={items} selected={selected} onSelect={setSelected} onError={setActionError} />
      <ErrorNotice error={error} onEnterKey={() => setSettingsOpen(true)}
        onRetry={() => { setActionError(null); retry(); }}
        onDismiss={() => { setActionError(null); setDismissedAt(errorUpdatedAt); }} />

      {!loading && items.length === 0 && !error ? (
        <div className="empty-state">
          <p><strong>{active ? 'Nothing matches these filters.' : 'The gallery is empty.'}</strong></p>
          <p className="muted">{active ? 'Try fewer words, another model or another preset.'
            : 'Images you generate are kept here, with all their settings.'}</p>
        </div>
      ) : (
        <GalleryGrid items={items} selected={selected} onToggle={toggle} />
      )}
      <LoadMore hasMore={hasMore} loading={loading} left={Math.max(0, total - items.length)} onMore={loadMore} />
    </section>
  );
}

// The gallery's state: the search in the URL, and the images it shows, fetched a page at a time.
import { useNavigate, useSearch } from '@tanstack/react-router';
import { useCallback, useEffect, useMemo } from 'react';
import { useGalleryImages } from '../../api/queries';
import type { GalleryImagePublic } from '../../api/types';
import { filtersOf, type GallerySearch } from './search';

export type UpdateSearch = (changes: GallerySearch, options?: { replace?: boolean }) => void;

/** The search from the URL, and `update` to change it: a new filter starts again at the first page. */
export function useGallerySearch(): { search: GallerySearch; update: UpdateSearch } {
  const search = useSearch({ from: '/gallery' });
  const navigate = useNavigate({ from: '/gallery' });
  const update = useCallback<UpdateSearch>((changes, { replace = false } = {}) => {
    void navigate({ search: (current) => ({ ...current, page: undefined, ...changes }), replace, resetScroll: false });
  }, [navigate]);
  return { search, update };
}

/**
 * The images of the URL's search, as many pages as its `page` says: the next ones are fetched until they are
 * there (a bookmarked `page=3` shows three pages), and `loadMore` asks the URL for one more.
 */
export function useShownImages(search: GallerySearch, update: UpdateSearch) {
  const page = search.page ?? 1;
  const query = useGalleryImages(filtersOf(search));
  const { data, hasNextPage, isFetching, isFetchNextPageError, isPlaceholderData, fetchNextPage } = query;
  const loadedPages = data?.pages.length ?? 0;

  useEffect(() => {
    if (isPlaceholderData || isFetching || isFetchNextPageError) return;
    if (loadedPages > 0 && loadedPages < page && hasNextPage) void fetchNextPage();
  }, [isPlaceholderData, isFetching, isFetchNextPageError, loadedPages, page, hasNextPage, fetchNextPage]);

  const shown = useMemo(() => data?.pages.slice(0, page) ?? [], [data, page]);
  const items = useMemo(() => {
    // Images generated meanwhile shift the offsets: an image can come again on the next page.
    const seen = new Set<string>();
    const list: GalleryImagePublic[] = [];
    for (const item of shown.flatMap((p) => p.items)) {
      if (!seen.has(item.id)) list.push(item);
      seen.add(item.id);
    }
    return list;
  }, [shown]);
  const total = shown.at(-1)?.total ?? 0;
  const hasMore = loadedPages > page || Boolean(hasNextPage);
  const loadMore = useCallback(() => update({ page: page + 1 }, { replace: true }), [update, page]);
  const retry = () => void (isFetchNextPageError ? fetchNextPage() : query.refetch());
  return { items, total, hasMore, loading: isFetching, error: query.error, errorUpdatedAt: query.errorUpdatedAt,
    loadMore, retry };
}

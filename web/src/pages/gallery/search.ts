// The gallery's search, filters and page live in the URL (#/gallery?q=…&model=…&from=…&to=…&page=…), so a
// search can be bookmarked or shared and the back button returns to the previous one.
import type { GalleryFilters } from '../../api/queries';

export interface GallerySearch {
  /** Words of the prompt. */
  q?: string;
  /** The model or checkpoint that made the image. */
  model?: string;
  /** First and last day, YYYY-MM-DD in local time. */
  from?: string;
  to?: string;
  /** How many pages of images are shown (infinite scroll adds one at a time); 1 when absent. */
  page?: number;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() ? value.trim() : undefined;
}

/** The route's validateSearch: anything else in the URL is dropped, a bad value is no filter. */
export function validateGallerySearch(raw: Record<string, unknown>): GallerySearch {
  const page = Number(raw.page);
  const day = (value: unknown) => (typeof value === 'string' && DAY.test(value) ? value : undefined);
  return {
    q: text(raw.q), model: text(raw.model), from: day(raw.from), to: day(raw.to),
    page: Number.isInteger(page) && page > 1 ? page : undefined,
  };
}

export function filtersOf(search: GallerySearch): GalleryFilters {
  return { q: search.q ?? '', model: search.model ?? '', from: search.from ?? '', to: search.to ?? '' };
}

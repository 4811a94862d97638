// The gallery's search, filters, order and page live in the URL (#/gallery?q=…&model=…&from=…&to=…&passes=…
// &sort=score&page=…), so a search can be bookmarked or shared and the back button returns to the previous one.
import type { GalleryFilters } from '../../api/queries';

export interface GallerySearch {
  /** Words of the prompt. */
  q?: string;
  /** The model or checkpoint that made the image. */
  model?: string;
  /** First and last day, YYYY-MM-DD in local time. */
  from?: string;
  to?: string;
  /** A marketplace preset the images must pass (e.g. main-image). */
  passes?: string;
  /** 'score': best catalogue score first; newest first when absent. */
  sort?: 'score';
  /** How many pages of images are shown (infinite scroll adds one at a time); 1 when absent. */
  page?: number;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const PRESET = /^[a-z0-9][a-z0-9-]{0,63}$/;

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() ? value.trim() : undefined;
}

/** The route's validateSearch: anything else in the URL is dropped, a bad value is no filter. */
export function validateGallerySearch(raw: Record<string, unknown>): GallerySearch {
  const page = Number(raw.page);
  const day = (value: unknown) => (typeof value === 'string' && DAY.test(value) ? value : undefined);
  return {
    q: text(raw.q), model: text(raw.model), from: day(raw.from), to: day(raw.to),
    passes: typeof raw.passes === 'string' && PRESET.test(raw.passes) ? raw.passes : undefined,
    sort: raw.sort === 'score' ? 'score' : undefined,
    page: Number.isInteger(page) && page > 1 ? page : undefined,
  };
}

export function filtersOf(search: GallerySearch): GalleryFilters {
  return { q: search.q ?? '', model: search.model ?? '', from: search.from ?? '', to: search.to ?? '',
    passes: search.passes ?? '', sort: search.sort ?? 'newest' };
}

/** Whether any filter narrows the images (the order is not a filter). */
export function filtersActive(search: GallerySearch): boolean {
  return Boolean(search.q || search.model || search.from || search.to || search.passes);
}

// The product-photo page's address: the mode and the outpaint format (#/photo?mode=outpaint&format=16:9), so a
// way of working can be bookmarked; the photo and its mask stay in the page.
import { useNavigate, useSearch } from '@tanstack/react-router';
import { useCallback } from 'react';
import { DEFAULT_PHOTO_SETTINGS, FORMATS, PHOTO_MODES, type PhotoFormat, type PhotoMode } from './photo';

export interface PhotoSearch {
  mode?: PhotoMode;
  format?: PhotoFormat;
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[]): T | undefined {
  return allowed.find((item) => item === value);
}

export function validatePhotoSearch(raw: Record<string, unknown>): PhotoSearch {
  return { mode: oneOf(raw.mode, PHOTO_MODES), format: oneOf(raw.format, FORMATS) };
}

/** The mode and format in the address (defaults when absent), and the way to change them (replacing the entry). */
export function usePhotoChoice(): { mode: PhotoMode; format: PhotoFormat;
  choose: (next: { mode?: PhotoMode; format?: PhotoFormat }) => void } {
  const search = useSearch({ from: '/photo' });
  const navigate = useNavigate({ from: '/photo' });
  const choose = useCallback((next: { mode?: PhotoMode; format?: PhotoFormat }) => {
    void navigate({ search: (current) => ({ ...current, ...next }), replace: true, resetScroll: false });
  }, [navigate]);
  return { mode: search.mode ?? DEFAULT_PHOTO_SETTINGS.mode, format: search.format ?? DEFAULT_PHOTO_SETTINGS.format,
    choose };
}

// The dataset check's report (GET /api/datasets/{name} `report`) in words for the detail view.
import type { DatasetReportPublic } from '../../api/types';

type Spread = NonNullable<DatasetReportPublic['width']>;

export interface NamedFile {
  file: string;
  /** Why it is listed; '' when the title says it. */
  reason: string;
}

/** The files training skips, by reason, each named (with the reason when the check gives one). */
export function skippedByReason(report: DatasetReportPublic): { label: string; files: NamedFile[] }[] {
  const plain = (files: string[], reason: string) => files.map((file) => ({ file, reason }));
  return [
    { label: 'Unreadable images', files: report.unreadable },
    { label: 'Too small to train on', files: report.too_small },
    { label: 'Images without a caption', files: plain(report.images_without_captions, 'no caption') },
    { label: 'Empty captions', files: plain(report.empty_captions, 'empty caption') },
    { label: 'Captions without an image', files: plain(report.captions_without_images, 'image missing') },
  ].filter((group) => group.files.length > 0);
}

/** "black 3, white 2" from {black: 3, white: 2}. */
export function countsText(counts: Record<string, number>): string {
  const entries = Object.entries(counts);
  return entries.length ? entries.map(([key, n]) => `${key} ${n}`).join(', ') : '–';
}

export function spreadText(spread: Spread | null, unit = ''): string {
  return spread ? `${spread.min}${unit} to ${spread.max}${unit} (median ${spread.median}${unit})` : '–';
}

// The dataset check's report (data.check.check_dataset(...).to_dict()) as the detail view reads it.

export interface Spread {
  min: number;
  median: number;
  max: number;
}

export interface NamedFile {
  file: string;
  reason: string;
}

export interface DatasetReport {
  layout: string;
  min_side: number;
  images: number;
  captions: number;
  ready_to_train: number;
  problems: Record<string, number>;
  verdict: string;
  unreadable: NamedFile[];
  too_small: NamedFile[];
  images_without_captions: string[];
  empty_captions: string[];
  captions_without_images: string[];
  caption_problems: string[];
  width: Spread | null;
  height: Spread | null;
  aspect_ratios: Record<string, number>;
  color_modes: Record<string, number>;
  file_formats: Record<string, number>;
  exif_rotated: string[];
  duplicates: string[][];
  caption_words: Spread | null;
  common_words: Record<string, number>;
}

/** The files training skips, by reason, each named (with the reason when the check gives one). */
export function skippedByReason(report: DatasetReport): { label: string; files: NamedFile[] }[] {
  const plain = (files: string[] | undefined, reason: string) => (files ?? []).map((file) => ({ file, reason }));
  return [
    { label: 'Unreadable images', files: report.unreadable ?? [] },
    { label: 'Too small to train on', files: report.too_small ?? [] },
    { label: 'Images without a caption', files: plain(report.images_without_captions, 'no caption') },
    { label: 'Empty captions', files: plain(report.empty_captions, 'empty caption') },
    { label: 'Captions without an image', files: plain(report.captions_without_images, 'image missing') },
  ].filter((group) => group.files.length > 0);
}

/** "black 3, white 2" from {black: 3, white: 2}. */
export function countsText(counts: Record<string, number> | undefined): string {
  const entries = Object.entries(counts ?? {});
  return entries.length ? entries.map(([key, n]) => `${key} ${n}`).join(', ') : '–';
}

export function spreadText(spread: Spread | null | undefined, unit = ''): string {
  return spread ? `${spread.min}${unit} to ${spread.max}${unit} (median ${spread.median}${unit})` : '–';
}

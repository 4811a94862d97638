// The files of an upload as the server takes them: each with its path inside the dataset ("images/1.png",
// "captions.json"), from a file input, a folder input (webkitdirectory) or a drop of files and folders.
import type { UploadProgress } from '../../api/http';

export interface PickedFile {
  file: File;
  /** The path inside the dataset, sent as the part's filename. */
  path: string;
}

/** Files the server ignores anyway (hidden files, macOS and Windows litter): not worth uploading. */
export function isLitter(path: string): boolean {
  return path.split('/').some((part) => part.startsWith('.') || part === '__MACOSX' || part === 'Thumbs.db');
}

/** Paths without the folder they were picked in, when they all share one ("shoes/images/1.png" → "images/1.png"). */
export function withoutCommonFolder(paths: string[]): string[] {
  const first = paths[0]?.split('/')[0];
  const shared = first !== undefined && paths.every((p) => p.includes('/') && p.split('/')[0] === first);
  return shared ? paths.map((p) => p.slice(first.length + 1)) : paths;
}

/** The picked files: a folder pick's paths lose the picked folder's name (the dataset is that folder). */
export function pickedFrom(files: File[], relativePaths: string[] = files.map((f) => f.webkitRelativePath || f.name)):
  PickedFile[] {
  const paths = withoutCommonFolder(relativePaths);
  return files.map((file, i) => ({ file, path: paths[i] })).filter((p) => !isLitter(p.path));
}

/** A dataset name from what was picked: the folder's or the archive's name, made safe. */
export function suggestedName(files: File[], relativePaths: string[] = []): string {
  const folder = relativePaths.find((p) => p.includes('/'))?.split('/')[0];
  const zip = files.length === 1 && /\.zip$/i.test(files[0].name) ? files[0].name.replace(/\.zip$/i, '') : undefined;
  const raw = folder ?? zip ?? '';
  return raw.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[.-]+|-+$/g, '').slice(0, 64);
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value >= 10 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}

/** What an upload under way says: the bytes sent of the total (a bar), then the server checking what it got. */
export function uploadStatus(progress: UploadProgress | null, files: number): { text: string; value: number;
  max: number } {
  const what = `${files} file${files === 1 ? '' : 's'}`;
  if (progress?.sentAll) return { text: `Checking ${what} on the server…`, value: 0, max: 0 };
  if (!progress) return { text: `Starting the upload of ${what}…`, value: 0, max: 0 };
  const { sent, total } = progress;
  if (total <= 0) return { text: `Uploading ${what}: ${formatBytes(sent)} sent…`, value: 0, max: 0 };
  const percent = Math.floor((100 * Math.min(sent, total)) / total);
  return { text: `Uploading ${what}: ${formatBytes(sent)} of ${formatBytes(total)} (${percent}%)`, value: sent,
    max: total };
}

/** The multipart body of POST /api/datasets. */
export function uploadForm(name: string, picked: PickedFile[]): FormData {
  const form = new FormData();
  form.append('name', name);
  for (const { file, path } of picked) form.append('files', file, path);
  return form;
}

// ------------------------------------------------------------------------------------------ drag and drop

interface Entry {
  isFile: boolean;
  isDirectory: boolean;
  name: string;
  file?: (resolve: (file: File) => void, reject: (error: unknown) => void) => void;
  createReader?: () => { readEntries: (resolve: (entries: Entry[]) => void, reject: (e: unknown) => void) => void };
}

async function walk(entry: Entry, prefix: string, out: { files: File[]; paths: string[] }): Promise<void> {
  const path = prefix ? `${prefix}/${entry.name}` : entry.name;
  if (entry.isFile && entry.file) {
    const read = entry.file.bind(entry);
    out.files.push(await new Promise<File>((resolve, reject) => read(resolve, reject)));
    out.paths.push(path);
  } else if (entry.isDirectory && entry.createReader) {
    const reader = entry.createReader();
    for (;;) { // readEntries answers in batches (100 in Chrome) until an empty one
      const batch = await new Promise<Entry[]>((resolve, reject) => reader.readEntries(resolve, reject));
      if (!batch.length) break;
      for (const child of batch) await walk(child, path, out);
    }
  }
}

/** The files of a drop, folders walked; paths keep the dropped folder's name (for the suggested name). */
export async function droppedFiles(data: DataTransfer): Promise<{ files: File[]; paths: string[] }> {
  const entries = [...data.items].map((item) => (item as DataTransferItem & { webkitGetAsEntry?: () => Entry | null })
    .webkitGetAsEntry?.() ?? null);
  if (!entries.length || entries.some((e) => e === null)) {
    const files = [...data.files];
    return { files, paths: files.map((f) => f.name) };
  }
  const out = { files: [] as File[], paths: [] as string[] };
  for (const entry of entries) await walk(entry as Entry, '', out);
  return out;
}

import { describe, expect, it } from 'vitest';
import { droppedFiles, formatBytes, pickedFrom, suggestedName, uploadForm, uploadStatus, withoutCommonFolder }
  from './files';

const file = (name: string, text = 'x') => new File([text], name);

describe('upload files', () => {
  it('a folder pick keeps paths inside the folder, without litter', () => {
    const files = ['1.png', 'captions.json', '.DS_Store', 'a.txt'].map((n) => file(n));
    const paths = ['shoes/images/1.png', 'shoes/captions.json', 'shoes/.DS_Store', 'shoes/__MACOSX/a.txt'];
    expect(pickedFrom(files, paths).map((p) => p.path)).toEqual(['images/1.png', 'captions.json']);
    expect(suggestedName(files, paths)).toBe('shoes');
  });

  it('loose files keep their names; a zip names the dataset', () => {
    expect(withoutCommonFolder(['a.png', 'b.png'])).toEqual(['a.png', 'b.png']);
    expect(withoutCommonFolder(['x/a.png', 'y/b.png'])).toEqual(['x/a.png', 'y/b.png']);
    expect(suggestedName([file('My Shoes (2024).zip')])).toBe('My-Shoes-2024');
    expect(suggestedName([file('a.png'), file('b.png')])).toBe('');
  });

  it('sends each file with its path as the filename', async () => {
    const form = uploadForm('shoes', pickedFrom([file('1.png', 'png'), file('captions.json', '[]')],
      ['shoes/images/1.png', 'shoes/captions.json']));
    expect(form.get('name')).toBe('shoes');
    const parts = form.getAll('files') as File[];
    expect(parts.map((p) => p.name)).toEqual(['images/1.png', 'captions.json']);
    expect(await parts[1].text()).toBe('[]');
  });

  it('formats sizes', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(2048)).toBe('2.0 KB');
    expect(formatBytes(5 * 1024 ** 3)).toBe('5.0 GB');
    expect(formatBytes(123 * 1024 ** 2)).toBe('123 MB');
  });
});

describe('upload status', () => {
  it('a bar of the bytes sent while they go out, then the server checking', () => {
    expect(uploadStatus(null, 14)).toEqual({ text: 'Starting the upload of 14 files…', value: 0, max: 0 });
    expect(uploadStatus({ sent: 3 * 1024 ** 2, total: 10 * 1024 ** 2, sentAll: false }, 14)).toEqual({
      text: 'Uploading 14 files: 3.0 MB of 10 MB (30%)', value: 3 * 1024 ** 2, max: 10 * 1024 ** 2 });
    expect(uploadStatus({ sent: 999, total: 1000, sentAll: false }, 1).text).toBe(
      'Uploading 1 file: 999 B of 1000 B (99%)'); // never 100% before the last byte
    expect(uploadStatus({ sent: 2048, total: 0, sentAll: false }, 2)).toEqual({
      text: 'Uploading 2 files: 2.0 KB sent…', value: 0, max: 0 }); // no known total: no bar to fill
    expect(uploadStatus({ sent: 1000, total: 1000, sentAll: true }, 14)).toEqual({
      text: 'Checking 14 files on the server…', value: 0, max: 0 });
  });
});

describe('dropped files', () => {
  type Entry = Record<string, unknown>;
  const fileEntry = (name: string): Entry => ({ isFile: true, isDirectory: false, name,
    file: (resolve: (f: File) => void) => resolve(new File(['x'], name)) });
  const folderEntry = (name: string, children: Entry[]): Entry => {
    const batches = [children.slice(0, 2), children.slice(2), []]; // answered in batches, then an empty one
    return { isFile: false, isDirectory: true, name,
      createReader: () => ({ readEntries: (resolve: (e: Entry[]) => void) => resolve(batches.shift() ?? []) }) };
  };

  it('walks a dropped folder, every batch, keeping the paths', async () => {
    const folder = folderEntry('shoes', [fileEntry('captions.json'), folderEntry('images',
      [fileEntry('1.png'), fileEntry('2.png'), fileEntry('3.png')]), fileEntry('notes.txt')]);
    const data = { items: [{ webkitGetAsEntry: () => folder }], files: [] } as unknown as DataTransfer;
    const { files, paths } = await droppedFiles(data);
    expect(paths).toEqual(['shoes/captions.json', 'shoes/images/1.png', 'shoes/images/2.png', 'shoes/images/3.png',
      'shoes/notes.txt']);
    expect(files.map((f) => f.name)).toEqual(['captions.json', '1.png', '2.png', '3.png', 'notes.txt']);
    expect(pickedFrom(files, paths)[1].path).toBe('images/1.png');
    expect(suggestedName(files, paths)).toBe('shoes');
  });
});

import { describe, expect, it } from 'vitest';
import { formatBytes, pickedFrom, suggestedName, uploadForm, withoutCommonFolder } from './files';

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

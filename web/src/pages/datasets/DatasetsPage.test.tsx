import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { App } from '../../App';
import { BASE_ROUTES, json, mockFetch } from '../../test/fetchMock';

const DATASET = {
  name: 'shoes', path: 'shoes', layout: 'captions.json', images: 3, bytes: 2048, source: 'upload', status: 'ready',
  usable: 2, skipped: 1, created_at: '2026-12-01T10:00:00Z',
};

const REPORT = {
  root: '/data/shoes', layout: 'captions.json', min_side: 64, images: 3, captions: 2, ready_to_train: 2,
  problems: { 'empty caption': 1, unreadable: 1 }, verdict: '2 problems: 1 unreadable, 1 empty caption; 2 images ready',
  unreadable: [{ file: 'images/bad.png', reason: 'truncated file' }], too_small: [],
  images_without_captions: [], empty_captions: ['images/2.png'], captions_without_images: [], caption_problems: [],
  width: { min: 64, median: 64, max: 64 }, height: { min: 64, median: 64, max: 64 },
  aspect_ratios: { 'square 1:1': 3 }, color_modes: { RGB: 2, CMYK: 1 }, file_formats: { PNG: 3 }, exif_rotated: [],
  duplicates: [['images/0.png', 'images/1.png']], caption_words: { min: 5, median: 6, max: 7 },
  common_words: { shoes: 2 },
};

function routes() {
  let captions: Record<string, string | null> = { 'images/0.png': 'red shoes', 'images/2.png': null };
  let datasets = [DATASET];
  return {
    ...BASE_ROUTES,
    'GET /api/datasets': () => json({ datasets }),
    'GET /api/datasets/caption-templates': () => json([{ name: 'original', template: 'A photo of [color] shoes' }]),
    'GET /api/datasets/shoes': () => json({ ...DATASET, report: REPORT,
      rejected: [{ file: 'images/notes.png', reason: 'not an image' }] }),
    'GET /api/datasets/shoes/items': () => json({ total: 2, items: Object.entries(captions).map(([file, caption]) =>
      ({ file, caption, image_url: `/api/datasets/shoes/files/${file}` })) }),
    'GET /api/datasets/shoes/files/.+': () => new Response(new Blob([new Uint8Array([137, 80, 78, 71])]),
      { headers: { 'Content-Type': 'image/png' } }),
    'PUT /api/datasets/shoes/captions': (call: { body: unknown }) => {
      const { file, caption } = call.body as { file: string; caption: string };
      captions = { ...captions, [file]: caption };
      return json({ file, caption, image_url: `/api/datasets/shoes/files/${file}` });
    },
    'POST /api/datasets/shoes/caption-template': () => json({ updated: 2 }),
    'DELETE /api/datasets/shoes': () => {
      datasets = [];
      return json(null, 204);
    },
    'POST /api/datasets': () => json({ ...DATASET, name: 'boots', rejected: [] }, 201),
  };
}

describe('Datasets page', () => {
  it('shows the report with every skipped and refused file named', async () => {
    window.location.hash = '#/datasets?name=shoes';
    mockFetch(routes());
    render(<App />);
    const report = await screen.findByTestId('dataset-report');
    expect(within(report).getByTestId('report-verdict')).toHaveTextContent('2 problems');
    expect(within(report).getByTestId('report-rejected')).toHaveTextContent('images/notes.png: not an image');
    const skipped = within(report).getAllByTestId('report-skipped').map((group) => group.textContent);
    expect(skipped).toEqual([expect.stringContaining('images/bad.png: truncated file'),
      expect.stringContaining('images/2.png: empty caption')]);
    expect(report).toHaveTextContent('Colour modesRGB 2, CMYK 1');
    expect(report).toHaveTextContent('images/0.png = images/1.png');
    expect(screen.getByRole('link', { name: 'Train on this dataset' })).toHaveAttribute('href',
      '/#/train?dataset=shoes');
  });

  it('edits a caption in place and saves that row alone', async () => {
    const user = userEvent.setup();
    window.location.hash = '#/datasets?name=shoes';
    const { calls } = mockFetch(routes());
    render(<App />);
    const caption = await screen.findByRole('textbox', { name: 'Caption of images/2.png' });
    const save = screen.getByRole('button', { name: 'Save caption of images/2.png' });
    expect(save).toBeDisabled();
    await user.type(caption, ' blue suede loafers ');
    await user.click(save);
    await waitFor(() => expect(calls.find((c) => c.method === 'PUT')?.body).toEqual(
      { file: 'images/2.png', caption: 'blue suede loafers' }));
    expect(await screen.findByText('Saved')).toBeInTheDocument();
    expect(caption).toHaveValue('blue suede loafers');
    expect(screen.getByRole('button', { name: 'Save caption of images/0.png' })).toBeDisabled();
  });

  it('applies a caption template from the presets', async () => {
    const user = userEvent.setup();
    window.location.hash = '#/datasets?name=shoes';
    const { calls } = mockFetch(routes());
    render(<App />);
    await user.click(await screen.findByText('Apply a caption template'));
    await user.click(await screen.findByRole('button', { name: 'original' }));
    expect(screen.getByRole('textbox', { name: 'Template' })).toHaveValue('A photo of [color] shoes');
    await user.click(screen.getByRole('button', { name: 'Apply to every caption' }));
    await waitFor(() => expect(calls.find((c) => c.path.endsWith('/caption-template'))?.body).toEqual(
      { template: 'A photo of [color] shoes' }));
    expect(await screen.findByText('2 captions rewritten from the template.')).toBeInTheDocument();
  });

  it('deletes a dataset after a confirmation', async () => {
    const user = userEvent.setup();
    window.location.hash = '#/datasets?name=shoes';
    const { calls } = mockFetch(routes());
    render(<App />);
    await user.click(await screen.findByRole('button', { name: 'Delete…' }));
    const dialog = screen.getByRole('dialog', { name: 'Delete the dataset shoes?' });
    await user.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(calls.some((c) => c.method === 'DELETE')).toBe(false);
    await user.click(screen.getByRole('button', { name: 'Delete…' }));
    await user.click(within(screen.getByRole('dialog', { name: 'Delete the dataset shoes?' })).getByRole('button',
      { name: 'Delete dataset' }));
    await waitFor(() => expect(window.location.hash).toBe('#/datasets'));
    expect(await screen.findByText(/No datasets yet/)).toBeInTheDocument();
  });

  it('unregisters a registered folder, and offers nothing for a folder placed on the server', async () => {
    const user = userEvent.setup();
    window.location.hash = '#/datasets?name=shoes';
    const registered = { ...DATASET, source: 'registered', path: 'team/shoes' };
    const { calls } = mockFetch({ ...routes(), 'GET /api/datasets': () => json({ datasets: [registered] }),
      'GET /api/datasets/shoes': () => json({ ...registered, report: REPORT, rejected: [] }) });
    const { unmount } = render(<App />);
    await user.click(await screen.findByRole('button', { name: 'Unregister…' }));
    const dialog = screen.getByRole('dialog', { name: 'Unregister the dataset shoes?' });
    expect(dialog).toHaveTextContent('The folder stays on the server');
    await user.click(within(dialog).getByRole('button', { name: 'Unregister' }));
    await waitFor(() => expect(calls.some((c) => c.method === 'DELETE')).toBe(true));
    unmount();

    window.location.hash = '#/datasets?name=shoes';
    const placed = { ...DATASET, source: 'folder' };
    mockFetch({ ...routes(), 'GET /api/datasets': () => json({ datasets: [placed] }),
      'GET /api/datasets/shoes': () => json({ ...placed, report: REPORT, rejected: [] }) });
    render(<App />);
    expect(await screen.findByText(/placed on the server: remove its folder there/)).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /Delete|Unregister/ })).toBeNull();
  });

  it('says in the dialog why a delete was refused', async () => {
    const user = userEvent.setup();
    window.location.hash = '#/datasets?name=shoes';
    const refusal = "dataset shoes: training run 'spring' (running) still reads it; stop it or let it finish, then "
      + 'delete the dataset';
    mockFetch({ ...routes(), 'DELETE /api/datasets/shoes': () => json({ detail: refusal }, 409) });
    render(<App />);
    await user.click(await screen.findByRole('button', { name: 'Delete…' }));
    const dialog = screen.getByRole('dialog', { name: 'Delete the dataset shoes?' });
    await user.click(within(dialog).getByRole('button', { name: 'Delete dataset' }));
    expect(await within(dialog).findByRole('alert')).toHaveTextContent(refusal);
    await user.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    await user.click(screen.getByRole('button', { name: 'Delete…' }));
    expect(within(screen.getByRole('dialog', { name: 'Delete the dataset shoes?' })).queryByRole('alert')).toBeNull();
  });

  it('uploads picked files with their paths and a name', async () => {
    const user = userEvent.setup();
    window.location.hash = '#/datasets';
    const { calls } = mockFetch(routes());
    render(<App />);
    const files = [new File(['png'], '1.png', { type: 'image/png' }), new File(['[]'], 'captions.json')];
    await user.upload(await screen.findByLabelText('Choose files'), files);
    expect(screen.getByTestId('upload-picked')).toHaveTextContent('2 files');
    await user.click(screen.getByRole('button', { name: 'Upload dataset' }));
    expect(screen.getByRole('alert')).toHaveTextContent('Name the dataset');
    await user.type(screen.getByRole('textbox', { name: 'Dataset name' }), 'boots');
    await user.click(screen.getByRole('button', { name: 'Upload dataset' }));
    await waitFor(() => expect(window.location.hash).toBe('#/datasets?name=boots'));
    const form = calls.find((c) => c.method === 'POST' && c.path === '/api/datasets')?.body as FormData;
    expect(form.get('name')).toBe('boots');
    expect((form.getAll('files') as File[]).map((f) => f.name)).toEqual(['1.png', 'captions.json']);
  });

  it('shows the upload’s progress, then the server’s check; a cancel keeps the files to try again', async () => {
    const user = userEvent.setup();
    window.location.hash = '#/datasets';
    const held: (() => void)[] = [];
    const uploadStep = () => new Promise<void>((resolve) => { held.push(resolve); });
    const { calls } = mockFetch(routes(), { uploadStep, uploadSteps: 2 });
    render(<App />);
    const files = [new File(['x'.repeat(3000)], '1.png', { type: 'image/png' }), new File(['[]'], 'captions.json')];
    await user.upload(await screen.findByLabelText('Choose files'), files);
    await user.type(screen.getByRole('textbox', { name: 'Dataset name' }), 'boots');
    const next = async () => {
      await waitFor(() => expect(held).toHaveLength(1));
      held.shift()!();
    };

    await user.click(screen.getByRole('button', { name: 'Upload dataset' }));
    const progress = await screen.findByTestId('upload-progress');
    expect(progress).toHaveTextContent('Starting the upload of 2 files…');
    expect(screen.getByRole('button', { name: 'Uploading…' })).toBeDisabled();
    await next();
    await waitFor(() => expect(progress).toHaveTextContent('Uploading 2 files: 1.5 KB of 2.9 KB (50%)'));
    expect(within(progress).getByRole('progressbar', { name: 'Upload progress' })).toHaveAttribute('aria-valuetext',
      '50%');
    await user.click(within(progress).getByRole('button', { name: 'Cancel upload' }));
    expect(await screen.findByText('Upload cancelled: the server kept none of it.')).toHaveRole('status');
    expect(screen.queryByTestId('upload-progress')).not.toBeInTheDocument();
    expect(screen.getByTestId('upload-picked')).toHaveTextContent('2 files');
    await next(); // the cut upload's next step finds it cancelled: it goes no further
    expect(calls.some((c) => c.method === 'POST')).toBe(false);

    await user.click(screen.getByRole('button', { name: 'Upload dataset' }));
    await next();
    await next();
    await waitFor(() => expect(screen.getByTestId('upload-progress')).toHaveTextContent(
      'Checking 2 files on the server…'));
    expect(screen.queryByRole('button', { name: 'Cancel upload' })).not.toBeInTheDocument();
    await waitFor(() => expect(window.location.hash).toBe('#/datasets?name=boots'));
  });
});

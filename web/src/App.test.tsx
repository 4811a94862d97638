import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { App } from './App';
import { BASE_ROUTES, galleryImage, json, mockFetch, streamResponse } from './test/fetchMock';

const items = ['a', 'b', 'c'].map((id, i) => galleryImage(id, { seed: 100 + i }));

function galleryRoutes() {
  let remaining = [...items];
  return {
    ...BASE_ROUTES,
    'GET /api/gallery': () => json({ items: remaining, total: remaining.length, offset: 0, limit: 24 }),
    'POST /api/gallery/export': () => new Response(new Blob(['PK']), { headers: { 'Content-Type': 'application/zip' } }),
    'POST /api/gallery/metadata': () => json([]),
    'DELETE /api/gallery/[^/]+': (call: { path: string }) => {
      remaining = remaining.filter((item) => !call.path.endsWith(`/${item.id}`));
      return json(null, 204);
    },
  };
}

describe('App', () => {
  it('gallery: selects images, exports the selection, deletes after confirmation', async () => {
    const user = userEvent.setup();
    window.location.hash = '#/gallery';
    const { calls } = mockFetch(galleryRoutes());
    const downloads: string[] = [];
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function click(this: HTMLAnchorElement) {
      downloads.push(this.download);
    });
    render(<App />);
    expect(await screen.findByText('3 images')).toBeInTheDocument();
    const boxes = screen.getAllByRole('checkbox', { name: /Select image/ });
    await user.click(boxes[0]);
    await user.click(boxes[2]);
    expect(screen.getByTestId('selection-count')).toHaveTextContent('2 selected');

    await user.click(screen.getByRole('button', { name: 'Download ZIP' }));
    await waitFor(() => expect(calls.find((c) => c.path === '/api/gallery/export')?.body).toEqual({ ids: ['a', 'c'] }));
    await waitFor(() => expect(downloads).toEqual([expect.stringMatching(/^shoegen-gallery-.*\.zip$/)]));
    await user.click(screen.getByRole('button', { name: 'Export metadata' }));
    await waitFor(() => expect(downloads[1]).toMatch(/^shoegen-metadata-.*\.json$/));

    await user.click(screen.getByRole('button', { name: 'Select all loaded' }));
    expect(screen.getByTestId('selection-count')).toHaveTextContent('3 selected');
    await user.click(screen.getByRole('button', { name: 'Unselect all' }));
    expect(screen.getByTestId('selection-count')).toHaveTextContent('Select images');

    await user.click(boxes[1]);
    await user.click(screen.getByRole('button', { name: 'Delete…' }));
    const dialog = screen.getByRole('dialog', { name: 'Delete 1 image?' });
    await user.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(calls.some((c) => c.method === 'DELETE')).toBe(false);
    await user.click(screen.getByRole('button', { name: 'Delete…' }));
    await user.click(within(screen.getByRole('dialog', { name: 'Delete 1 image?' })).getByRole('button',
      { name: 'Delete' }));
    await waitFor(() => expect(screen.getAllByTestId('gallery-card')).toHaveLength(2));
    expect(calls.filter((c) => c.method === 'DELETE').map((c) => c.path)).toEqual(['/api/gallery/b']);
    expect(screen.getByText('2 images')).toBeInTheDocument();
  });

  it('searches the gallery by prompt on the server', async () => {
    const user = userEvent.setup();
    window.location.hash = '#/gallery';
    const { calls } = mockFetch(galleryRoutes());
    render(<App />);
    await screen.findByText('3 images');
    await user.type(screen.getByRole('searchbox', { name: 'Search prompts' }), 'suede');
    await waitFor(() => expect(calls.some((c) => c.path === '/api/gallery' && c.query.get('q') === 'suede')).toBe(true));
  });

  it('gallery: the search and filters come from the URL', async () => {
    window.location.hash = '#/gallery?q=suede&model=shoes%2Fcheckpoint-8&from=2025-06-01';
    const { calls } = mockFetch(galleryRoutes());
    render(<App />);
    expect(await screen.findByText('3 images match the filters')).toBeInTheDocument();
    const request = calls.find((c) => c.path === '/api/gallery');
    expect(request?.query.get('q')).toBe('suede');
    expect(request?.query.get('model')).toBe('shoes/checkpoint-8');
    expect(request?.query.get('created_after')).toBe(new Date('2025-06-01T00:00:00').toISOString());
    expect(screen.getByRole('searchbox', { name: 'Search prompts' })).toHaveValue('suede');
    expect(screen.getByRole('combobox', { name: 'Model' })).toHaveValue('shoes/checkpoint-8');
    expect(screen.getByLabelText('From')).toHaveValue('2025-06-01');
  });

  it('gallery: a search goes into the URL, and the back button returns to the previous filters', async () => {
    const user = userEvent.setup();
    window.location.hash = '#/gallery';
    const { calls } = mockFetch(galleryRoutes());
    render(<App />);
    await screen.findByText('3 images');
    await user.type(screen.getByRole('searchbox', { name: 'Search prompts' }), 'suede');
    await waitFor(() => expect(window.location.hash).toBe('#/gallery?q=suede'));
    await user.selectOptions(screen.getByRole('combobox', { name: 'Model' }), 'shoes/checkpoint-8');
    await waitFor(() => expect(window.location.hash).toBe('#/gallery?q=suede&model=shoes%2Fcheckpoint-8'));
    await waitFor(() => expect(calls.some((c) => c.path === '/api/gallery'
      && c.query.get('model') === 'shoes/checkpoint-8' && c.query.get('q') === 'suede')).toBe(true));

    window.history.back();
    await waitFor(() => expect(screen.getByRole('combobox', { name: 'Model' })).toHaveValue(''));
    expect(window.location.hash).toBe('#/gallery?q=suede');
    expect(screen.getByRole('searchbox', { name: 'Search prompts' })).toHaveValue('suede');
    await user.click(screen.getByRole('button', { name: 'Clear filters' }));
    await waitFor(() => expect(screen.getByRole('searchbox', { name: 'Search prompts' })).toHaveValue(''));
    expect(window.location.hash).toBe('#/gallery');
  });

  it('gallery: how many pages are shown is in the URL', async () => {
    const user = userEvent.setup();
    const many = Array.from({ length: 30 }, (_, i) => galleryImage(`m${i}`, { seed: i }));
    const { calls } = mockFetch({
      ...BASE_ROUTES,
      'GET /api/gallery': (call) => {
        const offset = Number(call.query.get('offset') ?? 0);
        const limit = Number(call.query.get('limit') ?? 24);
        return json({ items: many.slice(offset, offset + limit), total: many.length, offset, limit });
      },
    });
    window.location.hash = '#/gallery?page=2';
    const { unmount } = render(<App />);
    await waitFor(() => expect(screen.getAllByTestId('gallery-card')).toHaveLength(30));
    expect(calls.filter((c) => c.path === '/api/gallery').map((c) => c.query.get('offset'))).toEqual(['0', '24']);
    unmount();

    window.location.hash = '#/gallery';
    render(<App />);
    await waitFor(() => expect(screen.getAllByTestId('gallery-card')).toHaveLength(24));
    await user.click(screen.getByRole('button', { name: 'Load more (6 left)' }));
    await waitFor(() => expect(screen.getAllByTestId('gallery-card')).toHaveLength(30));
    expect(window.location.hash).toBe('#/gallery?page=2');
    expect(screen.queryByRole('button', { name: /Load more/ })).not.toBeInTheDocument();
  });

  it('"use these settings" refills the generate form from a gallery image', async () => {
    const user = userEvent.setup();
    window.location.hash = '#/gallery';
    mockFetch(galleryRoutes());
    render(<App />);
    await user.click(await screen.findByRole('button', { name: /Open image 2/ }));
    const viewer = screen.getByRole('dialog', { name: 'Image details' });
    expect(within(viewer).getByTestId('meta-model')).toHaveTextContent('shoes · checkpoint 8');
    expect(within(viewer).getByTestId('meta-seed')).toHaveTextContent('101');
    await user.click(within(viewer).getByRole('button', { name: 'Use these settings' }));

    expect(window.location.hash).toBe('#/generate');
    expect(await screen.findByRole('textbox', { name: 'Prompt' })).toHaveValue('photo of shoe b');
    expect(screen.getByRole('combobox', { name: 'Model / checkpoint' })).toHaveValue('shoes/checkpoint-8');
    expect(screen.getByRole('spinbutton', { name: 'LoRA weight' })).toHaveValue(0.8);
    expect(screen.getByRole('radio', { name: 'Fixed' })).toBeChecked();
    expect(screen.getByRole('spinbutton', { name: 'Seed value' })).toHaveValue(101);
    expect(screen.getByRole('spinbutton', { name: 'Steps' })).toHaveValue(40);
    expect(screen.getByRole('spinbutton', { name: 'Guidance (CFG scale)' })).toHaveValue(9);
    expect(screen.getByRole('combobox', { name: 'Sampler' })).toHaveValue('Euler a');
    expect(screen.getByRole('combobox', { name: 'Width' })).toHaveValue('64');
  });

  it('generate: follows the job over SSE and shows its images', async () => {
    const user = userEvent.setup();
    const image = galleryImage('new1', { seed: 5, job_id: 'job9' });
    const { calls } = mockFetch({
      ...BASE_ROUTES,
      'POST /api/jobs': () => json({ id: 'job9', status: 'queued', step: 0, total_steps: 25,
        created_at: '2025-06-01T10:00:00Z', image_ids: [] }, 202),
      'GET /api/jobs/job9/events': () => streamResponse(['event: queued\ndata: {"position":1}\n\n',
        'event: started\ndata: {}\n\nevent: progress\ndata: {"step":12,"total":25}\n\n',
        'event: done\ndata: {"image_ids":["new1"]}\n\n']),
      'GET /api/gallery': () => json({ items: [image], total: 1, offset: 0, limit: 1 }),
    });
    render(<App />);
    await screen.findByText('Connected');
    expect(screen.getByRole('combobox', { name: 'Width' })).toHaveValue('64'); // the tiny base's size
    await user.type(screen.getByRole('textbox', { name: 'Prompt' }), 'blue canvas sneakers');
    await user.click(screen.getByRole('button', { name: /Generate 4 images/ }));

    const card = await screen.findByTestId('job-card');
    await waitFor(() => expect(card).toHaveAttribute('data-status', 'done'));
    expect(await within(card).findByRole('button', { name: 'Open image 1 (seed 5)' })).toBeInTheDocument();
    const body = calls.find((c) => c.path === '/api/jobs')?.body as Record<string, unknown>;
    expect(body).toMatchObject({ prompt: 'blue canvas sneakers', width: 64, height: 64, model_name: null });
    expect(calls.find((c) => c.path === '/api/gallery')?.query.get('job_id')).toBe('job9');
  });

  it('asks for the API key on a 401, then connects with it', async () => {
    const user = userEvent.setup();
    const { calls } = mockFetch({
      ...BASE_ROUTES,
      'GET /api/models': (call) => (call.headers.authorization === 'Bearer right-key'
        ? json({ models: [{ name: 'tiny', path: 'tiny', type: 'base', step: null }] })
        : json({ detail: 'missing or invalid API key' }, 401)),
    });
    render(<App />);
    expect(await screen.findByText('API key needed')).toBeInTheDocument();
    const settings = await screen.findByRole('dialog', { name: 'Connection settings' });
    expect(within(settings).getByRole('status')).toHaveTextContent('requires an API key');
    await waitFor(() => expect(within(settings).getByLabelText('API key')).toHaveFocus());
    await user.type(within(settings).getByLabelText('API key'), 'right-key');
    await user.click(within(settings).getByRole('button', { name: 'Save' }));

    expect(await screen.findByText('Connected')).toBeInTheDocument();
    expect(localStorage.getItem('shoegen.apiKey')).toBe('right-key');
    expect(calls.filter((c) => c.path === '/api/models').at(-1)?.headers.authorization).toBe('Bearer right-key');
  });

  it('says when the server cannot be reached', async () => {
    mockFetch({ 'GET /api/models': () => { throw new TypeError('Failed to fetch'); } });
    render(<App />);
    expect(await screen.findByText('Server offline')).toBeInTheDocument();
    expect(screen.getByRole('alert')).toHaveTextContent('Cannot reach the API server');
    expect(screen.getByRole('button', { name: 'Retry' })).toBeInTheDocument();
  });
});

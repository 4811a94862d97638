import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { App } from '../../App';
import { BASE_ROUTES, json, mockFetch, type RecordedCall } from '../../test/fetchMock';
import { FIELDS, RECIPES, trainingRun } from './fixtures';

function routes(runs: ReturnType<typeof trainingRun>[], extra: Record<string, (call: RecordedCall) => Response> = {}) {
  return { // the first pattern that matches answers: the test's own routes first
    ...extra,
    ...BASE_ROUTES,
    'GET /api/runs': () => json({ runs }),
    'GET /api/recipes': () => json({ recipes: RECIPES, fields: FIELDS, base_model: 'tiny', default_recipe: 'quick-test' }),
    'GET /api/datasets': () => json({ datasets: [{ name: 'shoes', path: 'shoes', layout: 'captions.json', images: 3,
      bytes: 10, source: 'upload', status: 'ready', usable: 3, skipped: 0, created_at: '2026-12-01T10:00:00Z' }] }),
    ...Object.fromEntries(runs.map((run) => [`GET /api/runs/${run.name}`, () => json(run)])),
    'GET /api/runs/[^/]+/log': () => json({ records: [], last_step: 0 }),
    'GET /api/runs/[^/]+/validation/\\d+': () => new Response(new Blob([new Uint8Array([137, 80, 78, 71])]),
      { headers: { 'Content-Type': 'image/png' } }),
  };
}

describe('Train page', () => {
  it('lists runs with their state: a queued one says where it waits and why, a failed one why it failed', async () => {
    window.location.hash = '#/train';
    mockFetch(routes([
      trainingRun({ name: 'waiting', status: 'queued', position: 2, waiting_reason: 'another run is training' }),
      trainingRun({ name: 'broken', status: 'error', error: 'CUDA out of memory' }),
      trainingRun({ name: 'moving', status: 'running', step: 10, max_steps: 40, dataset: '/data/datasets/shoes' }),
    ]));
    render(<App />);
    const items = await screen.findAllByTestId('run-item');
    expect(items.map((item) => item.textContent)).toEqual([
      'waitingWaiting2nd in the training queue: another run is training',
      'brokenFailedCUDA out of memory',
      'movingTrainingstep 10 of 40 · on shoes',
    ]);
  });

  it('the form starts with the dataset from the address and opens the run it started', async () => {
    const user = userEvent.setup();
    window.location.hash = '#/train?dataset=shoes';
    const started = trainingRun({ name: 'my-run', status: 'queued', position: 1, waiting_reason: null, step: 0 });
    const { calls } = mockFetch(routes([], {
      'POST /api/runs': () => json(started, 202),
      'GET /api/runs/my-run': () => json(started),
    }));
    render(<App />);
    expect(await screen.findByRole('combobox', { name: 'Dataset' })).toHaveValue('shoes');
    await user.type(screen.getByRole('textbox', { name: 'Run name' }), 'my-run');
    await user.click(screen.getByRole('button', { name: 'Start training' }));
    await waitFor(() => expect(window.location.hash).toBe('#/train?run=my-run'));
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({ name: 'my-run', dataset: 'shoes',
      recipe: 'quick-test', settings: {}, validation_prompts: ['white sneakers'] });
    expect(await screen.findByTestId('run-waiting')).toHaveTextContent('Next in the training queue');
    expect(screen.getByRole('button', { name: 'Cancel' })).toBeInTheDocument();
  });

  it('a live run: numbers, the log read from the last step held, the newest validation image, stop', async () => {
    const user = userEvent.setup();
    window.location.hash = '#/train?run=sneakers';
    const run = trainingRun({ validation_steps: [4, 8], step: 9, eta_seconds: 200 });
    const { calls } = mockFetch(routes([run], {
      'GET /api/runs/sneakers/log': (call) => json(call.query.get('since_step') === '0'
        ? { records: [{ step: 1, loss: 0.5 }, { step: 2, loss: 0.4, val_loss: 0.45 }], last_step: 2 }
        : { records: [{ step: 2, loss: 0.4 }, { step: 3, loss: 0.3 }], last_step: 3 }),
      'POST /api/runs/sneakers/stop': () => json({ ...run, status: 'stopping' }, 202),
    }));
    render(<App />);
    const detail = await screen.findByTestId('run-detail');
    expect(within(detail).getByTestId('run-step')).toHaveTextContent('step 9 of 40 (23%)');
    expect(within(detail).getByTestId('run-loss')).toHaveTextContent('0.1234');
    expect(within(detail).getByTestId('run-speed')).toHaveTextContent('2.5 steps/s');
    expect(within(detail).getByTestId('run-time-left')).toHaveTextContent('3 min 20 s');
    expect(within(detail).getByTestId('validation-step')).toHaveTextContent('step 8 (newest) · 2 of 2');
    expect(within(detail).getByRole('img', { name: 'Validation images of sneakers at step 8' })).toHaveAttribute(
      'src', '/api/runs/sneakers/validation/8');
    const chart = await within(detail).findByTestId('loss-chart', {}, { timeout: 10_000 }); // recharts loads lazily
    await waitFor(() => expect(chart).toHaveAttribute('data-points', '3'), { timeout: 5000 }); // after the next poll
    const asked = calls.filter((c) => c.path === '/api/runs/sneakers/log').map((c) => c.query.get('since_step'));
    expect(asked.slice(0, 2)).toEqual(['0', '2']);
    expect(detail).toHaveTextContent('Stop saves a checkpoint first');
    await user.click(within(detail).getByRole('button', { name: 'Stop' }));
    await waitFor(() => expect(detail).toHaveAttribute('data-status', 'stopping'));
    expect(within(detail).getByTestId('run-status')).toHaveTextContent('Stopping…');
  }, 20_000); // the chart library's first load, then a poll

  it('a finished run links to the Generate page with its model selected; delete asks first', async () => {
    const user = userEvent.setup();
    window.location.hash = '#/train?run=sneakers';
    const run = trainingRun({ status: 'done', has_final: true, step: 40, checkpoints: [{ name: 'sneakers/checkpoint-40',
      step: 40 }] });
    const { calls } = mockFetch(routes([run], { 'DELETE /api/runs/sneakers': () => json(null, 204) }));
    render(<App />);
    const link = await screen.findByRole('link', { name: 'Generate with this run' });
    expect(link).toHaveAttribute('href', '/#/generate?model=sneakers');
    expect(screen.getByRole('link', { name: 'Evaluate checkpoints…' })).toHaveAttribute('href', '/#/models');
    await user.click(screen.getByRole('button', { name: 'Delete…' }));
    const dialog = screen.getByRole('dialog', { name: 'Delete the run sneakers?' });
    await user.click(within(dialog).getByRole('button', { name: 'Delete run' }));
    await waitFor(() => expect(window.location.hash).toBe('#/train'));
    expect(calls.filter((c) => c.method === 'DELETE').map((c) => c.path)).toEqual(['/api/runs/sneakers']);
  });

  it('the Generate page takes the model from its address', async () => {
    window.location.hash = '#/generate?model=shoes%2Fcheckpoint-8';
    mockFetch(BASE_ROUTES);
    render(<App />);
    await waitFor(() => expect(screen.getByRole('combobox', { name: 'Model / checkpoint' })).toHaveValue(
      'shoes/checkpoint-8'));
    await waitFor(() => expect(window.location.hash).toBe('#/generate'));
  });
});

import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { App } from '../../App';
import { BASE_ROUTES, json, mockFetch, trainingRun } from '../../test/fetchMock';

function showModels(runs: unknown[], hash = '#/models') {
  window.location.hash = hash;
  mockFetch({ ...BASE_ROUTES, 'GET /api/runs': () => json({ runs }) });
  render(<App />);
}

// The chart is loaded lazily: its first import (recharts) can take a few seconds on a busy machine.
const chart = () => screen.findByTestId('score-chart', {}, { timeout: 15_000 });
const dots = (root: HTMLElement, line: 'main' | 'other') => root.querySelectorAll(`circle.score-dot-${line}`);

describe('Models page: scores by step', () => {
  // happy-dom lays nothing out: give the chart's container the size a browser would, so that recharts draws.
  beforeEach(() => {
    const measure = HTMLElement.prototype.getBoundingClientRect;
    vi.spyOn(HTMLElement.prototype, 'getBoundingClientRect').mockImplementation(function rect(this: HTMLElement) {
      return this.classList.contains('recharts-responsive-container') ? new DOMRect(0, 0, 480, 220)
        : measure.call(this);
    });
  });

  it('draws a point per step, marks the best checkpoint and names it with its rule', async () => {
    showModels([trainingRun()]);
    const figure = await chart();
    expect(dots(figure, 'main')).toHaveLength(4); // base (step 0), checkpoints 4 and 8, final weights
    expect(dots(figure, 'other')).toHaveLength(0);
    expect(within(figure).getByText('best')).toBeInTheDocument();
    expect(figure.querySelectorAll('.best-dot')).toHaveLength(1);
    expect(within(figure).getByText('0')).toBeInTheDocument(); // the x axis starts at the base
    const badge = screen.getByTestId('best-badge');
    expect(badge).toHaveTextContent('best: shoes/checkpoint-4 (catalogue_score 0.71)');
    expect(badge).toHaveAttribute('title', 'highest catalogue_score among the checkpoints; ties go to the earlier step');
    const row = screen.getByRole('checkbox', { name: 'Compare shoes/checkpoint-4' }).closest('label')!;
    expect(within(row).getByText('best')).toBeInTheDocument();
  });

  it('the tooltip names the model and its values at a step (keyboard, as recharts offers)', async () => {
    const user = userEvent.setup();
    showModels([trainingRun()], '#/models?metric=sharpness_ratio');
    const figure = await chart();
    const surface = figure.querySelector<HTMLElement>('[tabindex="0"]')!;
    surface.focus();
    await user.keyboard('{ArrowRight}'); // focus shows the first step (the base), the arrow the next
    const tooltip = await within(figure).findByTestId('score-tooltip');
    expect(tooltip).toHaveTextContent('shoes/checkpoint-4');
    expect(tooltip).toHaveTextContent('step 4');
    expect(tooltip).toHaveTextContent('catalogue score: 0.71');
    expect(tooltip).toHaveTextContent('sharpness ratio: 1.00');
  });

  it('the metric select lists the metrics with values and plots the chosen one, kept in the URL', async () => {
    const user = userEvent.setup();
    showModels([trainingRun()]);
    await chart();
    const select = screen.getByRole('combobox', { name: 'Metric of shoes' });
    expect(select).toHaveValue('catalogue_score');
    const options = within(select).getAllByRole('option').map((o) => o.getAttribute('value'));
    expect(options).toContain('sharpness_ratio');
    expect(options).not.toContain('clip_score'); // no value at any step
    expect(options).not.toContain('kid');

    await user.selectOptions(select, 'sharpness_ratio');
    await waitFor(() => expect(window.location.hash).toBe('#/models?metric=sharpness_ratio'));
    const figure = await chart();
    await waitFor(() => expect(figure).toHaveAttribute('data-metric', 'sharpness_ratio'));
    expect(dots(figure, 'other')).toHaveLength(4);
    expect(dots(figure, 'main')).toHaveLength(4); // the catalogue score stays, in bold
    expect(screen.getByText('sharpness ratio (right axis)')).toBeInTheDocument();

    await user.selectOptions(select, 'catalogue_score');
    await waitFor(() => expect(window.location.hash).toBe('#/models'));
    expect(dots(figure, 'other')).toHaveLength(0);
  });

  it('opens with the metric from the URL', async () => {
    showModels([trainingRun()], '#/models?metric=colour_distance');
    const figure = await chart();
    expect(figure).toHaveAttribute('data-metric', 'colour_distance');
    expect(screen.getByRole('combobox', { name: 'Metric of shoes' })).toHaveValue('colour_distance');
    expect(dots(figure, 'other')).toHaveLength(4);
  });

  it('"Use best" selects RUN/best in the generate form', async () => {
    const user = userEvent.setup();
    showModels([trainingRun()]);
    await user.click(await screen.findByRole('button', { name: 'Use best' }));
    expect(window.location.hash).toBe('#/generate');
    const model = await screen.findByRole('combobox', { name: 'Model / checkpoint' });
    expect(model).toHaveValue('shoes/best');
    expect(within(model).getByRole('option', { name: 'shoes · best (step 4)' })).toBeInTheDocument();
  });

  it('a run without scores says what an evaluation does and how to start one', async () => {
    showModels([trainingRun('plain', { scores: [], best: null, scores_plot_url: null })]);
    expect(await screen.findByTestId('not-evaluated')).toHaveTextContent('Not evaluated yet: an evaluation scores '
      + 'every checkpoint and picks the best one (or run shoegen evaluate plain).');
    expect(screen.getByRole('button', { name: 'Evaluate checkpoints' })).toBeEnabled();
    expect(screen.queryByTestId('score-chart')).not.toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Use best' })).not.toBeInTheDocument();
  });
});

describe('Models page: evaluating a run', () => {
  const evaluation = (overrides: Record<string, unknown> = {}) => ({ job_id: 'job-e', status: 'running',
    images_done: 3, images_total: 12, waiting_reason: null, settings: {}, error: null, notices: [], finished_at: null,
    ...overrides });

  it('starts an evaluation with the images per prompt chosen and the server\'s other defaults, then follows it',
    async () => {
      const user = userEvent.setup();
      window.location.hash = '#/models';
      const plain = trainingRun('plain', { scores: [], best: null, scores_plot_url: null });
      let runs: Record<string, unknown>[] = [plain];
      const { calls } = mockFetch({ ...BASE_ROUTES, 'GET /api/runs': () => json({ runs }),
        'POST /api/runs/plain/evaluate': () => {
          runs = [{ ...plain, evaluation: evaluation({ status: 'queued', images_done: 0, images_total: 0,
            waiting_reason: 'waiting for \'boots\' to finish' }) }];
          return json(runs[0], 202);
        } });
      render(<App />);
      await user.selectOptions(await screen.findByRole('combobox', { name: 'Images per prompt for plain' }), '4');
      await user.click(screen.getByRole('button', { name: 'Evaluate checkpoints' }));
      const posted = calls.find((call) => call.method === 'POST');
      expect(posted?.body).toEqual({ seeds: 4, seed: 1234, metrics: ['catalogue', 'clip', 'dino'],
        best_metric: 'catalogue_score' });
      expect(await screen.findByTestId('evaluation-step')).toHaveTextContent('Evaluation queued: waiting for \'boots\' '
        + 'to finish');
      runs = [{ ...plain, evaluation: evaluation() }];
      // Polled while it runs: the images made of all.
      await waitFor(() => expect(screen.getByTestId('evaluation-step')).toHaveTextContent('Evaluating: 3 of 12 '
        + 'images'), { timeout: 5000 });
    });

  it('cancels a running evaluation', async () => {
    const user = userEvent.setup();
    window.location.hash = '#/models';
    const { calls } = mockFetch({ ...BASE_ROUTES,
      'GET /api/runs': () => json({ runs: [trainingRun('shoes', { evaluation: evaluation() })] }),
      'DELETE /api/jobs/job-e': () => json({ id: 'job-e', status: 'running' }) });
    render(<App />);
    await user.click(await screen.findByRole('button', { name: 'Cancel' }));
    await waitFor(() => expect(calls.some((call) => call.method === 'DELETE' && call.path === '/api/jobs/job-e'))
      .toBe(true));
  });

  it('says why an evaluation failed, and offers none while the run trains or has no checkpoint', async () => {
    showModels([
      trainingRun('failed', { evaluation: evaluation({ status: 'error', error: 'CUDA out of memory' }) }),
      trainingRun('partial', { evaluation: evaluation({ status: 'done', notices: ['clip_score skipped: no CLIP'] }) }),
      trainingRun('busy', { status: 'running', scores: [], best: null }),
      trainingRun('fresh', { status: 'stopped', checkpoints: [], has_final: false, scores: [], best: null }),
    ]);
    expect(await screen.findByTestId('evaluation-ended'))
      .toHaveTextContent('The evaluation failed: CUDA out of memory');
    expect(screen.getAllByRole('button', { name: 'Evaluate again' })[0]).toBeEnabled();
    expect(screen.getByTestId('evaluation-notices')).toHaveTextContent('clip_score skipped: no CLIP');
    const [busy, fresh] = screen.getAllByRole('button', { name: 'Evaluate checkpoints' });
    expect(busy).toBeDisabled();
    expect(busy).toHaveAttribute('title', 'The run is training: evaluate it once it has stopped or finished.');
    expect(fresh).toBeDisabled();
    expect(fresh).toHaveAttribute('title', 'The run has no checkpoint yet to evaluate.');
  });
});

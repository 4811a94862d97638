import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { App } from '../../App';
import { BASE_ROUTES, catalogueScores, galleryImage, json, mockFetch } from '../../test/fetchMock';

const items = [
  galleryImage('good', { scores: catalogueScores(0.86) }),
  galleryImage('poor', { scores: catalogueScores(0.31, { cut_off: true, rule_failures: {
    'main-image': ['product touches the edge of the frame (cut off)'],
    catalogue: ['product touches the edge of the frame (cut off)'] } }) }),
  galleryImage('old'),
];

function routes() {
  return { ...BASE_ROUTES,
    'GET /api/gallery': () => json({ items, total: items.length, offset: 0, limit: 24 }) };
}

describe('Gallery scores', () => {
  it('the preset filter and the order come from the URL and go to the server', async () => {
    window.location.hash = '#/gallery?passes=main-image&sort=score';
    const { calls } = mockFetch(routes());
    render(<App />);
    expect(await screen.findByText('3 images match the filters')).toBeInTheDocument();
    const request = calls.find((c) => c.path === '/api/gallery');
    expect(request?.query.get('passes')).toBe('main-image');
    expect(request?.query.get('sort')).toBe('score');
    await waitFor(() => expect(screen.getByRole('combobox', { name: 'Passes' })).toHaveValue('main-image'));
    expect(screen.getByRole('combobox', { name: 'Sort' })).toHaveValue('score');
  });

  it('choosing a preset and an order writes them into the URL; clearing the filters keeps the order', async () => {
    const user = userEvent.setup();
    window.location.hash = '#/gallery';
    const { calls } = mockFetch(routes());
    render(<App />);
    await screen.findByText('3 images');
    expect(calls.find((c) => c.path === '/api/gallery')?.query.get('sort')).toBe('newest');
    const passes = screen.getByRole('combobox', { name: 'Passes' });
    await waitFor(() => expect(within(passes).getAllByRole('option').map((o) => o.textContent))
      .toEqual(['Any', 'main-image', 'catalogue']));
    await user.selectOptions(passes, 'catalogue');
    await waitFor(() => expect(window.location.hash).toBe('#/gallery?passes=catalogue'));
    await user.selectOptions(screen.getByRole('combobox', { name: 'Sort' }), 'score');
    await waitFor(() => expect(window.location.hash).toBe('#/gallery?passes=catalogue&sort=score'));
    await waitFor(() => expect(calls.some((c) => c.path === '/api/gallery' && c.query.get('passes') === 'catalogue'
      && c.query.get('sort') === 'score')).toBe(true));
    await user.click(screen.getByRole('button', { name: 'Clear filters' }));
    await waitFor(() => expect(window.location.hash).toBe('#/gallery?sort=score'));
  });

  it('each card shows its score out of 100, and the viewer names every failed rule', async () => {
    const user = userEvent.setup();
    window.location.hash = '#/gallery';
    mockFetch(routes());
    render(<App />);
    const cards = await screen.findAllByTestId('gallery-card');
    expect(cards.map((card) => within(card).queryByTestId('score-badge')?.textContent ?? null))
      .toEqual(['86', '31', null]);
    expect(within(cards[0]).getByTestId('score-badge')).toHaveAccessibleName('Catalogue score 86 of 100; passes catalogue');

    await user.click(screen.getByRole('button', { name: /Open image 1/ }));
    const scores = within(screen.getByRole('dialog', { name: 'Image details' })).getByTestId('image-scores');
    expect(scores).toHaveTextContent('99% white');
    expect(scores).toHaveTextContent('red: 8.3 ΔE');
    expect(within(scores).getByTestId('preset-main-image')).toHaveTextContent(
      'main-image: fails' + 'product fills 72% of the frame, needs at least 85%'
      + 'longest side is 64 px, needs at least 1000 px');
    expect(within(scores).getByTestId('preset-catalogue')).toHaveTextContent('catalogue: passes');

    await user.click(screen.getByRole('button', { name: 'Next image' }));
    const poor = within(screen.getByRole('dialog', { name: 'Image details' })).getByTestId('image-scores');
    expect(within(poor).getByTestId('preset-catalogue')).toHaveTextContent(
      'catalogue: failsproduct touches the edge of the frame (cut off)');
    await user.click(screen.getByRole('button', { name: 'Next image' }));
    expect(screen.getByRole('dialog', { name: 'Image details' })).toHaveTextContent(/Not scored/);
  });
});

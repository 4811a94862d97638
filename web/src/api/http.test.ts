import { waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { api } from './endpoints';
import { ApiError, buildUrl } from './http';
import { json, mockFetch } from '../test/fetchMock';

describe('api errors', () => {
  it('401 asks for the API key', async () => {
    mockFetch({ 'GET /api/models': () => json({ detail: 'missing or invalid API key' }, 401) });
    const error = await api.models().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ kind: 'unauthorized', status: 401 });
    expect((error as ApiError).message).toMatch(/API key/);
  });

  it('422 lists the fields the server rejected', async () => {
    mockFetch({
      'POST /api/jobs': () => json({ detail: [
        { loc: ['body', 'num_inference_steps'], msg: 'Input should be less than or equal to 150', type: 'x' },
        { loc: ['body', 'width'], msg: 'Input should be a multiple of 8', type: 'y' },
      ] }, 422),
    });
    const error = (await api.createJob({ prompt: 'x' } as never).catch((e: unknown) => e)) as ApiError;
    expect(error.kind).toBe('validation');
    expect(error.fieldErrors).toEqual([
      { field: 'num_inference_steps', message: 'Input should be less than or equal to 150' },
      { field: 'width', message: 'Input should be a multiple of 8' },
    ]);
  });

  it('429 carries Retry-After', async () => {
    mockFetch({ 'POST /api/jobs': () => json({ detail: 'the generation queue is full; retry later' }, 429,
      { 'Retry-After': '12' }) });
    const error = (await api.createJob({ prompt: 'x' } as never).catch((e: unknown) => e)) as ApiError;
    expect(error).toMatchObject({ kind: 'busy', retryAfter: 12 });
    expect(error.message).toContain('in 12 s');
  });

  it('a network failure says the server is unreachable', async () => {
    mockFetch({ 'GET /api/models': () => { throw new TypeError('Failed to fetch'); } });
    await expect(api.models()).rejects.toMatchObject({ kind: 'network' });
  });

  it('404 and 500 keep the server’s detail', async () => {
    mockFetch({
      'GET /api/gallery/nope': () => json({ detail: "no image 'nope' in the gallery" }, 404),
      'GET /api/gallery/boom': () => json({ detail: 'database is locked' }, 500),
    });
    await expect(api.galleryImage('nope')).rejects.toMatchObject({ kind: 'not_found',
      message: "no image 'nope' in the gallery" });
    await expect(api.galleryImage('boom')).rejects.toMatchObject({ kind: 'server' });
  });

  it('sends the saved key as a Bearer token, and nothing without one', async () => {
    const { calls } = mockFetch({ 'GET /api/models': () => json({ models: [] }) });
    await api.models();
    localStorage.setItem('shoegen.apiKey', 'k-123');
    await api.models();
    expect(calls[0].headers.authorization).toBeUndefined();
    expect(calls[1].headers.authorization).toBe('Bearer k-123');
  });
});

describe('uploads', () => {
  const form = () => {
    const body = new FormData();
    body.append('name', 'boots');
    body.append('files', new File(['x'.repeat(1000)], 'a.png'), 'images/a.png');
    return body;
  };

  it('report the bytes sent, then all sent, then answer', async () => {
    const { calls } = mockFetch({ 'POST /api/datasets': () => json({ name: 'boots' }, 201) }, { uploadSteps: 2 });
    localStorage.setItem('shoegen.apiKey', 'k-1');
    const seen: unknown[] = [];
    const answer = await api.uploadDataset(form(), { onProgress: (progress) => seen.push(progress) });
    expect(answer).toMatchObject({ name: 'boots' });
    expect(seen).toEqual([{ sent: 503, total: 1005, sentAll: false }, { sent: 1005, total: 1005, sentAll: false },
      { sent: 1005, total: 1005, sentAll: true }]);
    expect(calls[0].headers.authorization).toBe('Bearer k-1');
    expect((calls[0].body as FormData).get('name')).toBe('boots');
  });

  it('fail with the server’s reason, unreachable or cancelled as every other call does', async () => {
    mockFetch({ 'POST /api/datasets': () => json({ detail: 'images/x.png: more than 10 files in one upload' }, 413) });
    await expect(api.uploadDataset(form())).rejects.toMatchObject({ kind: 'too_large', status: 413,
      message: 'Too large for the server: images/x.png: more than 10 files in one upload' });
    mockFetch({ 'POST /api/datasets': () => json({ detail: 'name boots: a dataset of that name exists' }, 409) });
    await expect(api.uploadDataset(form())).rejects.toMatchObject({ kind: 'http',
      message: 'name boots: a dataset of that name exists' });
    mockFetch({ 'POST /api/datasets': () => { throw new TypeError('Failed to fetch'); } });
    await expect(api.uploadDataset(form())).rejects.toMatchObject({ kind: 'network' });

    let release = () => undefined as void;
    const step = () => new Promise<void>((resolve) => { release = resolve; });
    const { calls } = mockFetch({ 'POST /api/datasets': () => json({ name: 'boots' }, 201) }, { uploadStep: step });
    const controller = new AbortController();
    const seen: unknown[] = [];
    const upload = api.uploadDataset(form(), { signal: controller.signal, onProgress: (p) => seen.push(p) });
    release();
    await waitFor(() => expect(seen).toHaveLength(1));
    controller.abort();
    release();
    await expect(upload).rejects.toMatchObject({ kind: 'aborted' });
    expect(seen).toHaveLength(1);
    expect(calls).toHaveLength(0); // never answered: the server saw a cut body
    const aborted = new AbortController();
    aborted.abort();
    await expect(api.uploadDataset(form(), { signal: aborted.signal })).rejects.toMatchObject({ kind: 'aborted' });
  });
});

describe('buildUrl', () => {
  it('fills path parameters and drops empty query values', () => {
    expect(buildUrl('/api/runs/{run_name}/validation/{step}', { run_name: 'my run', step: 500 }))
      .toBe('/api/runs/my%20run/validation/500');
    expect(buildUrl('/api/gallery', null, { q: 'red shoes', model: null, offset: 0, limit: 24 }))
      .toBe('/api/gallery?q=red+shoes&offset=0&limit=24');
  });
});

import { describe, expect, it } from 'vitest';
import { followJob, parseJobEvent } from './jobs';
import { SSEParser, readEventStream, type SSEMessage } from './sse';
import type { JobEvent } from './types';
import { json, mockFetch, streamResponse } from '../test/fetchMock';

function parseAll(chunks: string[]): SSEMessage[] {
  const parser = new SSEParser();
  return [...chunks.flatMap((c) => parser.feed(c)), ...parser.end()];
}

describe('SSEParser', () => {
  it('reads named events with JSON data', () => {
    const messages = parseAll(['event: progress\ndata: {"step":1,"total":25}\n\n', 'event: done\ndata: {"image_ids":["a"]}\n\n']);
    expect(messages).toEqual([
      { event: 'progress', data: '{"step":1,"total":25}' },
      { event: 'done', data: '{"image_ids":["a"]}' },
    ]);
  });

  it('joins events split anywhere across chunks, including inside CRLF', () => {
    const text = 'event: progress\r\ndata: {"step":2,"total":30}\r\n\r\nevent: done\r\ndata: {}\r\n\r\n';
    for (let cut = 1; cut < text.length; cut++) {
      expect(parseAll([text.slice(0, cut), text.slice(cut)]).map((m) => m.event)).toEqual(['progress', 'done']);
    }
    expect(parseAll(text.split(''))).toHaveLength(2);
  });

  it('handles multi-line data, comments, bare CR, default event name, BOM, id and retry', () => {
    const messages = parseAll(['\uFEFF: keep-alive\n\n', 'data: line one\rdata: line two\r\r',
      'id: 7\nretry: 1500\nevent: queued\ndata:{"position":2}\n\n']);
    expect(messages).toEqual([
      { event: 'message', data: 'line one\nline two' },
      { event: 'queued', data: '{"position":2}', id: '7', retry: 1500 },
    ]);
  });

  it('drops an event the stream ended before completing', () => {
    expect(parseAll(['event: done\ndata: {"image_ids":[]}\n'])).toEqual([]);
  });
});

describe('readEventStream and followJob', () => {
  it('sends the API key and decodes multi-byte characters split across chunks', async () => {
    localStorage.setItem('shoegen.apiKey', 'sekret');
    const bytes = new TextEncoder().encode('data: {"error":"é"}\n\n');
    const { calls } = mockFetch({
      'GET /stream': () => new Response(new ReadableStream({
        start(controller) {
          controller.enqueue(bytes.slice(0, 17)); // splits the two bytes of "é"
          controller.enqueue(bytes.slice(17));
          controller.close();
        },
      })),
    });
    const seen: SSEMessage[] = [];
    await readEventStream('/stream', (m) => seen.push(m));
    expect(seen).toEqual([{ event: 'message', data: '{"error":"é"}' }]);
    expect(calls[0].headers.authorization).toBe('Bearer sekret');
  });

  it('follows a job to "done" across a dropped connection, resuming after the last event id', async () => {
    // The server's numbering: it sends the events after Last-Event-ID, or all of them without the header.
    const history = ['event: queued\ndata: {"position":1}', 'event: started\ndata: {"batch_size":1}',
      'event: progress\ndata: {"step":1,"total":2}', 'event: progress\ndata: {"step":2,"total":2}',
      'event: done\ndata: {"image_ids":["i1","i2"]}'].map((text, i) => `id: ${i + 1}\n${text}\n\n`);
    let connection = 0;
    const { calls } = mockFetch({
      'GET /api/jobs/j1/events': (call) => {
        connection += 1;
        const after = Number(call.headers['last-event-id'] ?? 0);
        const chunks = history.slice(after);
        if (connection > 1) return streamResponse(chunks);
        // The first connection drops (a network error) once three events are read.
        const encoder = new TextEncoder();
        const sent = chunks.slice(0, 3);
        return new Response(new ReadableStream<Uint8Array>({
          pull(controller) {
            const chunk = sent.shift();
            if (chunk) controller.enqueue(encoder.encode(chunk));
            else controller.error(new TypeError('network error'));
          },
        }), { headers: { 'Content-Type': 'text/event-stream' } });
      },
    });
    const events: JobEvent[] = [];
    const final = await followJob('j1', (e) => events.push(e), undefined, 1);
    expect(connection).toBe(2);
    expect(calls.map((c) => c.headers['last-event-id'])).toEqual([undefined, '3']);
    expect(final).toEqual({ event: 'done', image_ids: ['i1', 'i2'] });
    expect(events.map((e) => e.event)).toEqual(['queued', 'started', 'progress', 'progress', 'done']);
    expect(events.filter((e) => e.event === 'progress').map((e) => e.step)).toEqual([1, 2]);
  });

  it('reconnects after a stream that ends before the job finishes, and sends only ids it received', async () => {
    let connection = 0;
    const { calls } = mockFetch({
      'GET /api/jobs/j3/events': () => {
        connection += 1;
        // Closed cleanly before any event, then before the job's last event.
        if (connection === 1) return streamResponse([': keep-alive\n\n']);
        if (connection === 2) return streamResponse(['id: 1\nevent: started\ndata: {}\n\n']);
        return streamResponse(['id: 2\nevent: cancelled\ndata: {}\n\n']);
      },
    });
    const events: JobEvent[] = [];
    const final = await followJob('j3', (e) => events.push(e), undefined, 1);
    expect(final).toEqual({ event: 'cancelled' });
    expect(calls.map((c) => c.headers['last-event-id'])).toEqual([undefined, undefined, '1']);
    expect(events.map((e) => e.event)).toEqual(['started', 'cancelled']);
  });

  it('raises the API error of a refused stream (401)', async () => {
    mockFetch({ 'GET /api/jobs/j2/events': () => json({ detail: 'missing or invalid API key' }, 401) });
    await expect(followJob('j2', () => undefined)).rejects.toMatchObject({ kind: 'unauthorized' });
  });

  it('parses the event payloads the server sends', () => {
    expect(parseJobEvent('progress', '{"step":3,"total":25,"preview":"iVBOR"}'))
      .toEqual({ event: 'progress', step: 3, total: 25, preview: 'iVBOR' });
    expect(parseJobEvent('error', '{"error":"out of memory"}')).toEqual({ event: 'error', error: 'out of memory' });
    expect(parseJobEvent('cancelled', '{}')).toEqual({ event: 'cancelled' });
    expect(parseJobEvent('something-new', '{}')).toBeNull();
    expect(parseJobEvent('done', 'not json')).toBeNull();
  });
});

// Following one job's events to the end, across dropped connections.
import { ApiError, buildUrl, toApiError } from './http';
import { readEventStream } from './sse';
import { FINISHED_EVENTS, type JobEvent } from './types';

const RECONNECTS = 5;

export function parseJobEvent(name: string, data: string): JobEvent | null {
  let payload: Record<string, unknown> = {};
  try {
    payload = data ? (JSON.parse(data) as Record<string, unknown>) : {};
  } catch {
    return null;
  }
  switch (name) {
    case 'queued':
    case 'started':
    case 'cancelled':
      return { ...payload, event: name } as JobEvent;
    case 'progress':
      return { event: 'progress', step: Number(payload.step ?? 0), total: Number(payload.total ?? 0),
        preview: typeof payload.preview === 'string' ? payload.preview : undefined };
    case 'done':
      return { event: 'done', image_ids: Array.isArray(payload.image_ids) ? payload.image_ids.map(String) : [] };
    case 'error':
      return { event: 'error', error: String(payload.error ?? 'generation failed') };
    default:
      return null; // an event this UI does not know yet
  }
}

/**
 * Calls `onEvent` for each event of the job until it finishes (done, error or cancelled). The server numbers
 * a job's events (SSE `id:` 1, 2, ...): after a dropped connection the stream is asked again with the id of
 * the last event received as Last-Event-ID, and the server sends only the events that came after it.
 */
export async function followJob(jobId: string, onEvent: (event: JobEvent) => void, signal?: AbortSignal,
  retryDelayMs = 1000): Promise<JobEvent> {
  let lastEventId: string | undefined;
  let last: JobEvent | null = null;
  for (let attempt = 0; ; attempt++) {
    try {
      await readEventStream(buildUrl('/api/jobs/{job_id}/events', { job_id: jobId }), (message) => {
        if (message.id !== undefined) lastEventId = message.id;
        const event = parseJobEvent(message.event, message.data);
        if (!event) return;
        last = event;
        onEvent(event);
      }, signal, lastEventId);
    } catch (error) {
      const apiError = toApiError(error);
      if (apiError.kind !== 'network' || attempt >= RECONNECTS) throw apiError;
    }
    const final = last as JobEvent | null;
    if (final && FINISHED_EVENTS.some((name) => name === final.event)) return final;
    if (signal?.aborted) throw new ApiError('aborted', 'Cancelled.');
    if (attempt >= RECONNECTS) throw new ApiError('network', 'Lost the connection to the job’s progress stream.');
    await new Promise((resolve) => setTimeout(resolve, retryDelayMs));
  }
}

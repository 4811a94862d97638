// A text/event-stream reader over fetch(): EventSource cannot send the Authorization header.
import { authHeaders, errorFromResponse, toApiError } from './http';

export interface SSEMessage {
  event: string;
  data: string;
  id?: string;
  retry?: number;
}

/** Incremental parser following the HTML standard's event-stream rules; feed it text as it arrives. */
export class SSEParser {
  private buffer = '';
  private data: string[] = [];
  private event = '';
  private lastId: string | undefined;
  private retry: number | undefined;
  private started = false;

  feed(chunk: string): SSEMessage[] {
    this.buffer += chunk;
    if (!this.started && this.buffer.length) {
      this.started = true;
      if (this.buffer.startsWith('\uFEFF')) this.buffer = this.buffer.slice(1);
    }
    const messages: SSEMessage[] = [];
    for (;;) {
      const end = this.buffer.search(/[\r\n]/);
      if (end < 0) break;
      // A lone CR at the end of the text may be the first half of a CRLF: wait for more.
      if (this.buffer[end] === '\r' && end === this.buffer.length - 1) break;
      const line = this.buffer.slice(0, end);
      const skip = this.buffer[end] === '\r' && this.buffer[end + 1] === '\n' ? 2 : 1;
      this.buffer = this.buffer.slice(end + skip);
      const message = this.line(line);
      if (message) messages.push(message);
    }
    return messages;
  }

  /** The stream ended: a trailing CR still ends its line; an event without its blank line is dropped. */
  end(): SSEMessage[] {
    const messages = this.buffer.endsWith('\r') ? this.feed('\n') : [];
    this.buffer = '';
    this.data = [];
    this.event = '';
    return messages;
  }

  private line(line: string): SSEMessage | null {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return null; // comment, e.g. keep-alive
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
    else if (field === 'id' && !value.includes('\0')) this.lastId = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.retry = Number(value);
    return null;
  }

  private dispatch(): SSEMessage | null {
    const event = this.event || 'message';
    this.event = '';
    if (this.data.length === 0) return null;
    const message: SSEMessage = { event, data: this.data.join('\n') };
    this.data = [];
    if (this.lastId !== undefined) message.id = this.lastId;
    if (this.retry !== undefined) message.retry = this.retry;
    return message;
  }
}

/**
 * GET an event stream with the API key and call `onMessage` per event; resolves when the server closes it.
 * `lastEventId` (the `id` of the last event already handled) is sent as Last-Event-ID, so that a server which
 * honours it sends only the events after that one.
 */
export async function readEventStream(url: string, onMessage: (message: SSEMessage) => void,
  signal?: AbortSignal, lastEventId?: string): Promise<void> {
  const headers: Record<string, string> = { Accept: 'text/event-stream', ...authHeaders() };
  if (lastEventId !== undefined) headers['Last-Event-ID'] = lastEventId;
  let response: Response;
  try {
    response = await fetch(url, { headers, signal, cache: 'no-store' });
  } catch (error) {
    throw toApiError(error);
  }
  if (!response.ok) throw await errorFromResponse(response);
  if (!response.body) throw toApiError(new Error('the event stream has no body'));
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  const parser = new SSEParser();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      for (const message of parser.feed(decoder.decode(value, { stream: true }))) onMessage(message);
    }
    for (const message of parser.feed(decoder.decode())) onMessage(message);
    for (const message of parser.end()) onMessage(message);
  } catch (error) {
    throw toApiError(error);
  } finally {
    reader.releaseLock();
  }
}

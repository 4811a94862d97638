// The one place the UI talks HTTP: typed against the generated client (src/client), with the API key
// attached and every failure turned into an ApiError that the UI can explain to a person.
import type { paths } from '../client';

export const API_BASE = '';
const API_KEY_STORAGE = 'shoegen.apiKey';

export function getApiKey(): string {
  try {
    return globalThis.localStorage?.getItem(API_KEY_STORAGE) ?? '';
  } catch {
    return ''; // storage can be disabled (private mode, sandboxed frames)
  }
}

export function setApiKey(key: string): void {
  const trimmed = key.trim();
  if (trimmed) localStorage.setItem(API_KEY_STORAGE, trimmed);
  else localStorage.removeItem(API_KEY_STORAGE);
}

export function authHeaders(): Record<string, string> {
  const key = getApiKey();
  return key ? { Authorization: `Bearer ${key}` } : {};
}

// ------------------------------------------------------------------------------------------------ errors

export type ErrorKind =
  | 'network' // server down or unreachable
  | 'unauthorized' // 401: missing or wrong API key
  | 'validation' // 422: field errors or a refused request
  | 'not_found' // 404
  | 'busy' // 429: queue full, Retry-After says when to come back
  | 'too_large' // 413
  | 'server' // 5xx
  | 'http' // any other status
  | 'aborted';

export interface FieldError {
  /** The request field, e.g. "num_inference_steps" ("body" and query prefixes removed). */
  field: string;
  message: string;
}

export class ApiError extends Error {
  readonly kind: ErrorKind;
  readonly status: number | null;
  readonly fieldErrors: FieldError[];
  /** Seconds, from the Retry-After header of a 429. */
  readonly retryAfter: number | null;

  constructor(kind: ErrorKind, message: string, options: { status?: number | null; fieldErrors?: FieldError[];
    retryAfter?: number | null } = {}) {
    super(message);
    this.name = 'ApiError';
    this.kind = kind;
    this.status = options.status ?? null;
    this.fieldErrors = options.fieldErrors ?? [];
    this.retryAfter = options.retryAfter ?? null;
  }
}

interface ValidationItem {
  loc?: (string | number)[];
  msg?: string;
}

function fieldOf(loc: (string | number)[] = []): string {
  const parts = loc.filter((part, i) => !(i === 0 && ['body', 'query', 'path', 'header'].includes(String(part))));
  return parts.map(String).join('.') || 'request';
}

function retryAfterSeconds(header: string | null): number | null {
  if (!header) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, Math.round(seconds));
  const date = Date.parse(header); // Retry-After may also be an HTTP date
  return Number.isNaN(date) ? null : Math.max(0, Math.round((date - Date.now()) / 1000));
}

/** Build the ApiError for a non-2xx response (reads its body). */
export async function errorFromResponse(response: Response): Promise<ApiError> {
  let detail: unknown = null;
  const text = await response.text().catch(() => '');
  try {
    detail = text ? (JSON.parse(text) as { detail?: unknown }).detail ?? null : null;
  } catch {
    detail = text.slice(0, 300) || null;
  }
  const status = response.status;
  const said = typeof detail === 'string' ? detail : null;
  if (status === 401 || status === 403) {
    return new ApiError('unauthorized', 'This server needs an API key. Enter it with the “API key” button at the top right.',
      { status });
  }
  if (status === 422 || status === 400) {
    const items = Array.isArray(detail) ? (detail as ValidationItem[]) : [];
    const fieldErrors = items.map((item) => ({ field: fieldOf(item.loc), message: item.msg ?? 'invalid value' }));
    const message = fieldErrors.length
      ? `Some settings were rejected: ${fieldErrors.map((e) => `${e.field}: ${e.message}`).join('; ')}`
      : said ?? 'The server refused the request.';
    return new ApiError('validation', message, { status, fieldErrors });
  }
  if (status === 429) {
    const retryAfter = retryAfterSeconds(response.headers.get('Retry-After'));
    const when = retryAfter === null ? 'in a moment' : `in ${retryAfter} s`;
    return new ApiError('busy', `The server is busy: its generation queue is full. Try again ${when}.`,
      { status, retryAfter });
  }
  if (status === 404) return new ApiError('not_found', said ?? 'Not found.', { status });
  if (status === 413) { // the server says which limit (a dataset upload's files, its size): keep it
    return new ApiError('too_large', `Too large for the server${said ? `: ${said}` : '.'}`, { status });
  }
  if (status >= 500) {
    return new ApiError('server', `The server failed (HTTP ${status})${said ? `: ${said}` : '.'}`, { status });
  }
  return new ApiError('http', said ?? `Unexpected answer from the server (HTTP ${status}).`, { status });
}

export function networkError(): ApiError {
  return new ApiError('network',
    'Cannot reach the API server. Check that `shoegen serve` is running and that this page is served by it ' +
    '(or by `npm run dev` with its proxy).');
}

export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof DOMException && error.name === 'AbortError') return new ApiError('aborted', 'Cancelled.');
  if (error instanceof TypeError) return networkError(); // what fetch throws when nothing answers
  return new ApiError('http', error instanceof Error ? error.message : String(error));
}

// ------------------------------------------------------------------------------------------ typed fetch

type Method = 'get' | 'post' | 'put' | 'delete';
type Path = keyof paths;
/** The paths that have an operation for `M`. */
export type PathWith<M extends Method> = { [P in Path]: paths[P][M] extends { responses: unknown } ? P : never }[Path];
type Operation<P extends Path, M extends Method> = paths[P][M];

type JsonOf<R> = R extends { content: { 'application/json': infer T } } ? T : never;
type SuccessJson<O> = O extends { responses: infer R }
  ? JsonOf<R[Extract<keyof R, 200 | 201 | 202>]> | (204 extends keyof R ? undefined : never)
  : never;
type BodyOf<O> = O extends { requestBody: { content: { 'application/json': infer B } } } ? B : undefined;
type HasFormBody<O> = O extends { requestBody: { content: { 'multipart/form-data': unknown } } } ? true : false;
type QueryOf<O> = O extends { parameters: { query?: infer Q } } ? Q : undefined;
type PathParamsOf<O> = O extends { parameters: { path: infer T } } ? T : undefined;

export interface RequestOptions<O> {
  params?: PathParamsOf<O>;
  query?: QueryOf<O>;
  body?: BodyOf<O>;
  signal?: AbortSignal;
}

/** `/api/gallery/{image_id}` + {image_id: "x"} + query → "/api/gallery/x?…" */
export function buildUrl(template: string, params?: object | null, query?: object | null): string {
  let url = template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = (params as Record<string, unknown> | undefined)?.[name];
    if (value === undefined || value === null) throw new Error(`missing path parameter ${name} for ${template}`);
    return encodeURIComponent(String(value));
  });
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  }
  const qs = search.toString();
  if (qs) url += `?${qs}`;
  return API_BASE + url;
}

/** A raw authenticated request: resolves to the Response only when it is 2xx, else throws ApiError. */
export async function send(method: string, url: string, init: { body?: unknown; signal?: AbortSignal;
  accept?: string } = {}): Promise<Response> {
  const headers: Record<string, string> = { Accept: init.accept ?? 'application/json', ...authHeaders() };
  const isForm = init.body instanceof FormData; // the browser writes a multipart body's Content-Type (boundary)
  if (init.body !== undefined && !isForm) headers['Content-Type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(url, {
      method: method.toUpperCase(), headers, signal: init.signal,
      body: init.body === undefined ? undefined : isForm ? (init.body as FormData) : JSON.stringify(init.body),
    });
  } catch (error) {
    throw toApiError(error);
  }
  if (!response.ok) throw await errorFromResponse(response);
  return response;
}

/** A JSON operation of the contract, typed from src/client: path, parameters, body and answer. */
export async function call<M extends Method, P extends PathWith<M>>(
  method: M, path: P, options: RequestOptions<Operation<P, M>> = {},
): Promise<SuccessJson<Operation<P, M>>> {
  const response = await send(method, buildUrl(path, options.params, options.query),
    { body: options.body, signal: options.signal });
  if (response.status === 204) return undefined as SuccessJson<Operation<P, M>>;
  return (await response.json()) as SuccessJson<Operation<P, M>>;
}

/** A binary operation (PNG, ZIP): the body as a Blob. */
export async function callBlob<M extends Method, P extends PathWith<M>>(
  method: M, path: P, options: RequestOptions<Operation<P, M>> = {}, accept = '*/*',
): Promise<Blob> {
  const response = await send(method, buildUrl(path, options.params, options.query),
    { body: options.body, signal: options.signal, accept });
  return response.blob();
}

export interface UploadProgress {
  /** Bytes of the body sent so far. */
  sent: number;
  /** The body's size in bytes; 0 while the browser does not know it. */
  total: number;
  /** All of the body is sent: the server reads what it got, and cancelling no longer stops it taking effect. */
  sentAll: boolean;
}

export interface UploadOptions {
  signal?: AbortSignal;
  /** Called as the body goes out, and once more when all of it is sent. */
  onProgress?: (progress: UploadProgress) => void;
}

export type FormOptions<O> = Omit<RequestOptions<O>, 'body'> & UploadOptions;

/** A multipart/form-data POST of the contract (an upload): the form as built by the caller, the answer typed. Sent
 * with XMLHttpRequest, which reports how much of the body went out (fetch does not); failures are the same
 * ApiErrors as `send`'s, a cancel through `signal` an `aborted` one. */
export async function callForm<P extends PathWith<'post'>>(
  path: P, form: HasFormBody<Operation<P, 'post'>> extends true ? FormData : never,
  options: FormOptions<Operation<P, 'post'>> = {},
): Promise<SuccessJson<Operation<P, 'post'>>> {
  const response = await sendForm(buildUrl(path, options.params, options.query), form, options);
  if (!response.ok) throw await errorFromResponse(response);
  return (await response.json()) as SuccessJson<Operation<P, 'post'>>;
}

function sendForm(url: string, form: FormData, options: UploadOptions): Promise<Response> {
  const { signal, onProgress } = options;
  return new Promise((resolve, reject) => {
    const cancelled = () => new ApiError('aborted', 'Cancelled.');
    if (signal?.aborted) return reject(cancelled());
    const request = new XMLHttpRequest();
    let sent = 0;
    let total = 0;
    request.open('POST', url);
    for (const [name, value] of Object.entries({ Accept: 'application/json', ...authHeaders() })) {
      request.setRequestHeader(name, value);
    }
    request.upload.onprogress = (event) => {
      sent = event.loaded;
      total = event.lengthComputable ? event.total : total;
      onProgress?.({ sent, total, sentAll: false });
    };
    request.upload.onload = () => {
      total = Math.max(total, sent);
      onProgress?.({ sent: total, total, sentAll: true });
    };
    const abort = () => request.abort();
    signal?.addEventListener('abort', abort, { once: true });
    const settle = (outcome: () => void) => () => {
      signal?.removeEventListener('abort', abort);
      outcome();
    };
    // A status outside 200-599 is no HTTP answer (and no Response could hold it).
    request.onload = settle(() => (request.status >= 200 && request.status <= 599 ? resolve(responseOf(request))
      : reject(networkError())));
    request.onerror = settle(() => reject(networkError()));
    request.ontimeout = settle(() => reject(networkError()));
    request.onabort = settle(() => reject(cancelled()));
    request.send(form);
  });
}

/** The XMLHttpRequest's answer as a fetch Response, so that one function (`errorFromResponse`) explains failures. */
function responseOf(request: XMLHttpRequest): Response {
  const headers = new Headers();
  for (const line of request.getAllResponseHeaders().trim().split(/[\r\n]+/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  const empty = request.status === 204 || request.status === 205 || request.status === 304;
  return new Response(empty ? null : request.responseText, { status: request.status, headers });
}

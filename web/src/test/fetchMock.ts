// A fetch() stand-in for component tests: routes by method and path, records every call.
import { vi } from 'vitest';

export interface RecordedCall {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  body: unknown;
}

type Handler = (call: RecordedCall) => Response | Promise<Response>;

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(status === 204 ? null : JSON.stringify(body), {
    status, headers: { 'Content-Type': 'application/json', ...headers },
  });
}

export interface MockOptions {
  /** Awaited before each progress event of an upload (XMLHttpRequest): a test holds an upload mid-way. */
  uploadStep?: () => Promise<void>;
  /** How many progress events an upload reports before its answer (default 4). */
  uploadSteps?: number;
}

/** fetch() and XMLHttpRequest (which uploads use, for their progress) answered by `routes`, every call recorded. */
export function mockFetch(routes: Record<string, Handler>, options: MockOptions = {}) {
  const calls: RecordedCall[] = [];
  const answer = (method: string, input: string, rawHeaders: Record<string, string>, body: unknown) => {
    const url = new URL(input, 'http://localhost');
    const headers = Object.fromEntries(Object.entries(rawHeaders).map(([k, v]) => [k.toLowerCase(), v]));
    const call: RecordedCall = { method, path: url.pathname, query: url.searchParams, headers, body };
    calls.push(call);
    const key = Object.keys(routes).find((pattern) => {
      const [m, p] = pattern.split(' ');
      return m === method && new RegExp(`^${p}$`).test(url.pathname);
    });
    if (!key) return json({ detail: `no mock for ${method} ${url.pathname}` }, 404);
    return routes[key](call);
  };
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => answer(
    (init.method ?? 'GET').toUpperCase(), String(input), (init.headers ?? {}) as Record<string, string>,
    typeof init.body === 'string' ? JSON.parse(init.body) : init.body ?? null));
  vi.stubGlobal('fetch', fetchMock);
  vi.stubGlobal('XMLHttpRequest', fakeXMLHttpRequest(answer, options));
  return { calls, fetchMock };
}

type Answer = (method: string, url: string, headers: Record<string, string>, body: unknown) =>
  Response | Promise<Response>;

function bodySize(body: unknown): number {
  if (!(body instanceof FormData)) return typeof body === 'string' ? body.length : 0;
  return [...body.values()].reduce((sum, value) => sum + (typeof value === 'string' ? value.length : value.size), 0);
}

/** The part of XMLHttpRequest that src/api/http.ts uses: the body "sent" in steps, then the route's answer. */
function fakeXMLHttpRequest(answer: Answer, { uploadStep = async () => undefined, uploadSteps = 4 }: MockOptions) {
  return class FakeXMLHttpRequest {
    upload: { onprogress: ((event: ProgressEvent) => void) | null; onload: (() => void) | null } =
      { onprogress: null, onload: null };
    onload: (() => void) | null = null;
    onerror: (() => void) | null = null;
    onabort: (() => void) | null = null;
    ontimeout: (() => void) | null = null;
    status = 0;
    responseText = '';
    private method = 'GET';
    private url = '';
    private headers: Record<string, string> = {};
    private responseHeaders = '';
    private state: 'open' | 'done' | 'aborted' = 'open';

    open(method: string, url: string) {
      this.method = method.toUpperCase();
      this.url = url;
    }

    setRequestHeader(name: string, value: string) {
      this.headers[name] = value;
    }

    getAllResponseHeaders() {
      return this.responseHeaders;
    }

    abort() {
      if (this.state !== 'open') return;
      this.state = 'aborted';
      this.onabort?.();
    }

    send(body: unknown) {
      void this.run(body);
    }

    private async run(body: unknown) {
      const total = bodySize(body);
      for (let step = 1; step <= uploadSteps; step += 1) {
        await uploadStep();
        if (this.state !== 'open') return;
        const loaded = Math.round((total * step) / uploadSteps);
        this.upload.onprogress?.({ loaded, total, lengthComputable: true } as ProgressEvent);
      }
      this.upload.onload?.();
      let response: Response;
      try {
        response = await answer(this.method, this.url, this.headers, body);
      } catch {
        if (this.state === 'open') this.onerror?.();
        return;
      }
      if (this.state !== 'open') return;
      this.state = 'done';
      this.status = response.status;
      this.responseText = await response.text();
      this.responseHeaders = [...response.headers].map(([name, value]) => `${name}: ${value}\r\n`).join('');
      this.onload?.();
    }
  };
}

/** A text/event-stream body delivered in the given chunks. */
export function streamResponse(chunks: string[], status = 200): Response {
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
  return new Response(body, { status, headers: { 'Content-Type': 'text/event-stream' } });
}

export const MODELS = {
  models: [
    { name: 'tiny', path: 'tiny', type: 'base', step: null },
    { name: 'shoes', path: 'shoes/lora_weights/pytorch_lora_weights.safetensors', type: 'final', step: null },
    { name: 'shoes/best', path: 'x', type: 'best', step: 4 },
    { name: 'shoes/checkpoint-4', path: 'x', type: 'checkpoint', step: 4 },
    { name: 'shoes/checkpoint-8', path: 'y', type: 'checkpoint', step: 8 },
  ],
  native_width: 64,
  native_height: 64,
  far_from_native: 2,
};

export const SAMPLERS = ['DPM++ 2M Karras', 'Euler a', 'DDIM'].map((name) => ({ name, aliases: [], options: {} }));

export function galleryImage(id: string, overrides: Record<string, unknown> = {}) {
  return {
    id, created_at: '2025-06-01T10:00:00Z', prompt: `photo of shoe ${id}`, negative_prompt: 'blurry',
    model_name: 'shoes/checkpoint-8', loras: [{ name: 'shoes/checkpoint-8', weight: 0.8 }], seed: 1234,
    num_inference_steps: 40, guidance_scale: 9, sampler: 'Euler a', clip_skip: 1, width: 64, height: 64,
    strength: null, mode: 'txt2img', job_id: 'job1', image_url: `/api/gallery/${id}/image`,
    extra: { base_model: 'tiny', device: 'cpu' }, scores: null,
    ...overrides,
  };
}

export const PRESETS = [
  { name: 'main-image', description: 'the common marketplace main-image rule', min_background: 0.97, min_fill: 0.85,
    min_longest_side: 1000 },
  { name: 'catalogue', description: 'a looser rule for a catalogue page', min_background: 0.9 },
];

/** Catalogue scores as the server sends them, passing the catalogue preset and failing the main-image rule. */
export function catalogueScores(score: number, overrides: Record<string, unknown> = {}) {
  return {
    width: 64, height: 64, product_found: true, background: 0.99, offset: 0.02, fill: 0.72, fill_range: null,
    cut_off: false, colour: 'red', colour_distance: 8.25, sharpness: 41.5, sharpness_ratio: null, score,
    rule_failures: { 'main-image': ['product fills 72% of the frame, needs at least 85%',
      'longest side is 64 px, needs at least 1000 px'], catalogue: [] },
    ...overrides,
  };
}

/** One model's scores as `shoegen evaluate` writes them (GET /api/runs): step 0 is the base. */
export function checkpointScores(model: string, step: number, catalogueScore: number,
  metrics: Record<string, number | null> = {}) {
  return {
    model, step, images: 4,
    metrics: { catalogue_score: catalogueScore, score: catalogueScore + 0.05, background: 0.9, fill: 0.6, offset: 0.04,
      cut_off: 0, colour_distance: 12.5, sharpness_ratio: 0.8 + step / 20, diversity: 0.3, memorised: 0,
      passes_main_image: 0, passes_catalogue: 0.5, clip_score: null, kid: null, ...metrics },
  };
}

/** A run of GET /api/runs: checkpoints 4 and 8 and final weights; evaluated (best: checkpoint 4) unless told. */
export function trainingRun(name = 'shoes', overrides: Record<string, unknown> = {}) {
  return {
    name,
    checkpoints: [4, 8].map((step) => ({ name: `${name}/checkpoint-${step}`, step })),
    has_final: true,
    validation_steps: [4, 8],
    loss_curve_url: `/api/runs/${name}/loss-curve`,
    scores: [checkpointScores('tiny', 0, 0.42), checkpointScores(`${name}/checkpoint-4`, 4, 0.71),
      checkpointScores(`${name}/checkpoint-8`, 8, 0.65), checkpointScores(name, 10, 0.6)],
    best: { model: `${name}/checkpoint-4`, step: 4, metric: 'catalogue_score', value: 0.712,
      rule: 'highest catalogue_score among the checkpoints; ties go to the earlier step' },
    scores_plot_url: `/api/runs/${name}/scores-plot`,
    status: 'done',
    evaluation: null,
    ...overrides,
  };
}

/** The routes every rendering of <App> needs. */
export const BASE_ROUTES: Record<string, Handler> = {
  'GET /api/models': () => json(MODELS),
  'GET /sdapi/v1/samplers': () => json(SAMPLERS),
  'GET /api/health': () => json({ status: 'ok' }),
  'GET /api/gallery/models': () => json(['shoes/checkpoint-8']),
  'GET /api/presets': () => json(PRESETS),
  'GET /api/runs': () => json({ runs: [] }),
  'GET /api/runs/[^/]+/captions': () => json([]),
  'GET /api/gallery/[^/]+/image': () => new Response(new Blob([new Uint8Array([137, 80, 78, 71])]),
    { headers: { 'Content-Type': 'image/png' } }),
};

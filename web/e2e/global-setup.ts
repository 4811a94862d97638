// Starts the whole system for the browser tests: trains (or reuses) a tiny LoRA run, then three real API
// servers on free loopback ports, each with its own empty gallery: one open, one that requires an API key, and
// one for training in the studio (its own empty models and datasets folders, so the cached run stays as it is).
// Their addresses reach the tests through environment variables; the returned function stops them.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const WEB = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ROOT = path.resolve(WEB, '..');
const SHOEGEN = process.env.SHOEGEN_BIN || path.join(ROOT, '.venv', 'bin', 'shoegen');
const CACHE = path.join(WEB, '.e2e-cache');
export const API_KEY = 'e2e-secret-key';

const childEnv = { ...process.env, HF_HUB_OFFLINE: '1', TRANSFORMERS_VERBOSITY: 'error' };

function run(args: string[]): void {
  const result = spawnSync(SHOEGEN, args, { env: childEnv, encoding: 'utf8', timeout: 600_000 });
  if (result.status !== 0) {
    throw new Error(`shoegen ${args.join(' ')} failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
  }
}

/** The tiny run `shoes` with checkpoints 4 and 8, final weights, validation sheet and loss curve. */
function ensureModels(): string {
  const models = path.join(CACHE, 'models');
  const run_dir = path.join(models, 'shoes');
  const ready = ['checkpoints/checkpoint-4', 'checkpoints/checkpoint-8', 'lora_weights']
    .every((p) => existsSync(path.join(run_dir, p, 'pytorch_lora_weights.safetensors')))
    && existsSync(path.join(run_dir, 'logs', 'loss_curve.png'));
  if (ready) return models;
  rmSync(CACHE, { recursive: true, force: true });
  mkdirSync(models, { recursive: true });
  const data = path.join(CACHE, 'data');
  run(['sample-data', data, '--count', '16', '--size', '64']);
  run(['train', '--pretrained_model_name_or_path', 'tiny', '--dataset_path', data, '--output_dir', run_dir,
    '--resolution', '64', '--max_train_steps', '8', '--checkpointing_steps', '4', '--validation_steps', '8',
    '--train_batch_size', '4', '--gradient_accumulation_steps', '1', '--validation_inference_steps', '2',
    '--num_validation_images', '1', '--quiet']);
  return models;
}

/** `shoegen evaluate` on the run once (catalogue scores, one seed, 2 denoising steps: ~1 min on 2 cores), so that
 * the Models page has a score chart and `shoes/best` exists. */
function ensureEvaluated(models: string): void {
  const run_dir = path.join(models, 'shoes');
  if (existsSync(path.join(run_dir, 'eval', 'best.json'))) return;
  run(['evaluate', run_dir, '--seeds', '1', '--steps', '2', '--metrics', 'catalogue']);
}

/** Twelve 64 px product photos with captions.json (`shoegen sample-data`), which the training test uploads. */
function ensureDataset(): string {
  const dataset = path.join(CACHE, 'dataset');
  if (existsSync(path.join(dataset, 'captions.json'))) return dataset;
  run(['sample-data', dataset, '--count', '12', '--size', '64']);
  return dataset;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

interface Server {
  url: string;
  process: ChildProcess;
  log: string;
  dataDir: string;
}

async function startServer(models: string | null, name: string, extraEnv: Record<string, string>): Promise<Server> {
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `shoegen-e2e-${name}-`));
  const log = path.join(dataDir, 'server.log');
  const modelsDir = models ?? path.join(dataDir, 'models'); // none given: a models folder of its own
  mkdirSync(modelsDir, { recursive: true });
  const child = spawn('bash', ['-c', `exec "$0" "$@" > "${log}" 2>&1`, SHOEGEN, 'serve', '--host', '127.0.0.1',
    '--port', String(port), '--base-model', 'tiny', '--models-dir', modelsDir, '--data-dir', path.join(dataDir, 'data')],
  { env: { ...childEnv, SHOEGEN_WEB_DIR: path.join(WEB, 'dist'), ...extraEnv }, stdio: 'ignore' });
  return { url: `http://127.0.0.1:${port}`, process: child, log, dataDir };
}

async function waitUntilUp(server: Server, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (server.process.exitCode !== null) break;
    try {
      const response = await fetch(`${server.url}/api/health`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const log = existsSync(server.log) ? readFileSync(server.log, 'utf8').slice(-3000) : '(no log)';
  throw new Error(`shoegen serve at ${server.url} did not come up:\n${log}`);
}

async function stop(server: Server): Promise<void> {
  if (server.process.exitCode === null) {
    const exited = new Promise((resolve) => server.process.once('exit', resolve));
    server.process.kill('SIGTERM');
    const timer = setTimeout(() => server.process.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }
  rmSync(server.dataDir, { recursive: true, force: true });
}

export default async function globalSetup(): Promise<() => Promise<void>> {
  if (!existsSync(path.join(WEB, 'dist', 'index.html'))) throw new Error('build the UI first: npm run build');
  if (!existsSync(SHOEGEN)) throw new Error(`no shoegen at ${SHOEGEN}: run \`make install\` (or set SHOEGEN_BIN)`);
  const started = Date.now();
  const models = ensureModels();
  ensureEvaluated(models);
  const dataset = ensureDataset();
  const servers = [
    await startServer(models, 'open', { SHOEGEN_PREVIEW_EVERY: '5' }),
    await startServer(models, 'keyed', { SHOEGEN_API_KEY: API_KEY }),
    await startServer(null, 'train', {}),
  ];
  try {
    await Promise.all(servers.map((s) => waitUntilUp(s)));
  } catch (error) {
    await Promise.all(servers.map(stop));
    throw error;
  }
  process.env.E2E_URL = servers[0].url;
  process.env.E2E_KEYED_URL = servers[1].url;
  process.env.E2E_API_KEY = API_KEY;
  process.env.E2E_TRAIN_URL = servers[2].url;
  process.env.E2E_DATASET = dataset;
  console.log(`[e2e] servers up in ${((Date.now() - started) / 1000).toFixed(1)} s: ${servers.map((s) => s.url).join(', ')}`);
  return async () => {
    await Promise.all(servers.map(stop));
  };
}

// The committed client (src/client) must be exactly what the generator makes from openapi.json, and every
// path the UI calls must be in the contract. (tests/web/test_openapi_contract.py checks openapi.json
// against the Python service.)
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLIENT_DIR, generateClientFiles, staleFiles } from './generate-client.mjs';

describe('generated client', () => {
  it('is up to date with openapi.json (run `npm run generate-client` when this fails)', async () => {
    expect(await staleFiles(await generateClientFiles())).toEqual([]);
  });

  it('covers every API path the UI calls', async () => {
    const schema = JSON.parse(await readFile(path.join(CLIENT_DIR, '..', '..', 'openapi.json'), 'utf8'));
    const source = await readFile(path.join(CLIENT_DIR, '..', 'api', 'endpoints.ts'), 'utf8');
    const used = [...source.matchAll(/'(\/(?:api|sdapi)\/[^']*)'/g)].map((m) => m[1]);
    expect(used.length).toBeGreaterThan(10);
    for (const route of used) expect(Object.keys(schema.paths)).toContain(route);
  });
});

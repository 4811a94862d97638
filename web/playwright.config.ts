// End-to-end tests: Debian's Chromium (no browser download) against real `shoegen serve` processes on
// loopback ports, started by e2e/global-setup.ts with the built UI (dist/) and a tiny trained adapter.
import { defineConfig } from '@playwright/test';

export const CHROMIUM_ARGS = ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export default defineConfig({
  testDir: 'e2e',
  outputDir: 'test-results/playwright',
  globalSetup: './e2e/global-setup.ts',
  fullyParallel: false,
  workers: 1, // one CPU-bound generation server; parallel tests would only queue behind each other
  retries: 0,
  // Generous: a CPU shared with other work can make one 25-step tiny generation take most of a minute.
  timeout: 360_000,
  expect: { timeout: 120_000 },
  reporter: [['list']],
  use: {
    browserName: 'chromium',
    headless: true,
    viewport: { width: 1280, height: 860 },
    acceptDownloads: true,
    launchOptions: { executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium', args: CHROMIUM_ARGS },
    trace: 'off',
    screenshot: 'only-on-failure',
  },
});

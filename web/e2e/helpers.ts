import { expect, type Page } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const SCREENSHOTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'test-results',
  'screenshots');

export async function screenshot(page: Page, name: string, fullPage = false): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage, animations: 'disabled' });
}

/** Fails the test on any uncaught page error or console error (other than expected HTTP failures). */
export function watchConsole(page: Page, allowed: RegExp[] = []): string[] {
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const text = message.text();
    if (/Failed to load resource/.test(text) || allowed.some((re) => re.test(text))) return;
    problems.push(`console: ${text}`);
  });
  return problems;
}

/** Every image box inside `scope` has finished loading its picture. */
export async function expectImagesLoaded(page: Page, selector: string, count: number): Promise<void> {
  await expect(page.locator(`${selector} .img-box.loaded`)).toHaveCount(count);
}

export function uniqueWord(): string {
  return `zq${Date.now().toString(36)}`;
}

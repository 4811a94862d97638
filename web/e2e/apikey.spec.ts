// A server started with SHOEGEN_API_KEY: the UI explains the 401, takes the key, and then works, including
// the event stream and the images (both fetched with the Authorization header).
import { expect, test } from '@playwright/test';
import { expectImagesLoaded, screenshot, watchConsole } from './helpers';

test('API key: 401 message, wrong key refused, right key works end to end', async ({ page }) => {
  const problems = watchConsole(page);
  await page.goto(`${process.env.E2E_KEYED_URL}/#/generate`);
  await expect(page.getByTestId('connection')).toHaveText('API key needed');
  const settings = page.getByRole('dialog', { name: 'Connection settings' });
  await expect(settings).toBeVisible();
  await expect(settings.getByRole('status')).toContainText('requires an API key');
  await screenshot(page, 'apikey-prompt');

  await settings.getByLabel('API key', { exact: true }).fill('not-the-key');
  await settings.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByTestId('connection')).toHaveText('API key needed');
  await expect(settings.getByRole('status')).toContainText('the saved one was refused');
  await settings.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByRole('alert').first()).toContainText('This server needs an API key');
  await screenshot(page, 'apikey-refused');

  await page.getByRole('button', { name: 'Enter API key' }).first().click();
  await settings.getByLabel('API key', { exact: true }).fill(process.env.E2E_API_KEY!);
  await settings.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByTestId('connection')).toHaveText('Connected');
  await expect(page.getByRole('alert')).toHaveCount(0);

  await page.getByRole('textbox', { name: 'Prompt', exact: true }).fill('A professional product photo of black leather boots');
  await page.getByRole('combobox', { name: 'Model / checkpoint' }).selectOption('shoes');
  await page.getByRole('spinbutton', { name: 'Number of images' }).fill('1');
  await page.getByRole('spinbutton', { name: 'Steps' }).fill('25');
  await page.getByRole('button', { name: 'Generate 1 image' }).click();
  const card = page.getByTestId('job-card').first();
  await expect(card).toHaveAttribute('data-status', 'done');
  await expectImagesLoaded(page, '[data-testid="job-card"] .result-grid', 1);

  // The key survives a reload (localStorage), and the gallery's images load with it.
  await page.goto(`${process.env.E2E_KEYED_URL}/#/gallery`);
  await expect(page.getByTestId('connection')).toHaveText('Connected');
  await expect(page.getByTestId('gallery-card')).toHaveCount(1);
  await expectImagesLoaded(page, '.gallery-grid', 1);
  await screenshot(page, 'apikey-gallery');
  expect(problems).toEqual([]);
});

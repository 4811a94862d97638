// The studio against a real server: generate with live progress, zoom, download, switch checkpoints, find
// the images in the gallery, export a ZIP, delete, and on the models page the score chart, "Use best" and a
// checkpoint comparison.
import { expect, test, type Page } from '@playwright/test';
import { unzipSync, strFromU8 } from 'fflate';
import { readFileSync } from 'node:fs';
import { expectImagesLoaded, screenshot, uniqueWord, watchConsole } from './helpers';

const word = uniqueWord();
const PROMPT = `A professional product photo of white leather sneakers ${word}, side view`;

async function fillGenerateForm(page: Page, options: { model: string; images: number; seed: number }) {
  await page.getByRole('textbox', { name: 'Prompt', exact: true }).fill(PROMPT);
  await page.getByRole('combobox', { name: 'Model / checkpoint' }).selectOption(options.model);
  await page.getByRole('spinbutton', { name: 'Number of images' }).fill(String(options.images));
  await page.getByRole('spinbutton', { name: 'Steps' }).fill('25');
  await page.getByRole('radio', { name: 'Fixed' }).check();
  await page.getByRole('spinbutton', { name: 'Seed value' }).fill(String(options.seed));
  await page.getByRole('combobox', { name: 'Width' }).selectOption('64');
  await page.getByRole('combobox', { name: 'Height' }).selectOption('64');
}

test.describe.configure({ mode: 'serial' });

test('generate: progress, results, zoom, download and checkpoint switch', async ({ page }) => {
  const problems = watchConsole(page);
  await page.goto(`${process.env.E2E_URL}/#/generate`);
  await expect(page.getByTestId('connection')).toHaveText('Connected');
  await expect(page.getByRole('combobox', { name: 'Width' })).toHaveValue('64');
  await expect(page.getByRole('button', { name: /Use training caption/ }).first()).toHaveCount(0);
  await fillGenerateForm(page, { model: 'shoes/checkpoint-4', images: 2, seed: 4242 });
  // The run's training captions are offered once one of its checkpoints is picked.
  await expect(page.getByRole('button', { name: /Use training caption/ }).first()).toBeVisible();
  await screenshot(page, 'generate-form');

  await page.getByRole('button', { name: 'Generate 2 images' }).click();
  const card = page.getByTestId('job-card').first();
  await expect(card).toBeVisible();
  // Live progress from the event stream: the bar moves and the server's preview appears (every 5 steps).
  await expect(card.getByRole('progressbar')).toHaveAttribute('aria-valuenow', /^([1-9]|1\d|2[0-5])$/);
  await expect(card.getByTestId('job-progress-text')).toContainText(/step \d+ of 25/);
  await expect(card.getByAltText('Live preview of the image being generated')).toBeVisible();
  await screenshot(page, 'generate-progress');

  await expect(card).toHaveAttribute('data-status', 'done');
  await expect(card.getByTestId('job-status')).toHaveText('Done');
  await expectImagesLoaded(page, '[data-testid="job-card"]:first-child .result-grid', 2);
  await screenshot(page, 'generate-results');

  await card.getByRole('button', { name: 'Open image 1 (seed 4242)' }).click();
  const viewer = page.getByRole('dialog', { name: 'Image details' });
  await expect(viewer.getByTestId('viewer-prompt')).toHaveText(PROMPT);
  await expect(viewer.getByTestId('meta-model')).toContainText('shoes/checkpoint-4');
  await expect(viewer.getByTestId('meta-seed')).toHaveText('4242');
  await expect(viewer.locator('.img-box.loaded')).toHaveCount(1);
  await screenshot(page, 'image-viewer');

  const downloadPromise = page.waitForEvent('download');
  await viewer.getByRole('button', { name: 'Download PNG' }).click();
  const download = await downloadPromise;
  expect(download.suggestedFilename()).toMatch(/^shoegen-4242-[0-9a-f]+\.png$/);
  const png = readFileSync(await download.path());
  expect([...png.subarray(0, 8)]).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);

  await viewer.getByRole('button', { name: 'Next image' }).click();
  await expect(viewer.getByTestId('meta-seed')).toHaveText('4243');
  await page.keyboard.press('Escape');
  await expect(viewer).toBeHidden();

  // Another checkpoint, same seed: the new image's metadata names the model that made it.
  await page.getByRole('combobox', { name: 'Model / checkpoint' }).selectOption('shoes/checkpoint-8');
  await page.getByRole('spinbutton', { name: 'Number of images' }).fill('1');
  await page.getByRole('button', { name: 'Generate 1 image' }).click();
  await expect(page.getByTestId('job-card')).toHaveCount(2); // the newest job is listed first
  const second = page.getByTestId('job-card').first();
  await expect(second).toHaveAttribute('data-status', 'done');
  await second.getByRole('button', { name: 'Open image 1 (seed 4242)' }).click();
  await expect(viewer.getByTestId('meta-model')).toContainText('shoes · checkpoint 8');
  await expect(viewer.getByTestId('meta-model')).toContainText('shoes/checkpoint-8');
  await expect(viewer).toContainText('shoes/checkpoint-8 × 1');
  // "Use these settings" puts the image's settings back into the form.
  await viewer.getByRole('button', { name: 'Use these settings' }).click();
  await expect(page.getByRole('combobox', { name: 'Model / checkpoint' })).toHaveValue('shoes/checkpoint-8');
  await expect(page.getByRole('spinbutton', { name: 'Seed value' })).toHaveValue('4242');
  expect(problems).toEqual([]);
});

test('gallery: search by prompt, filter, export a ZIP, delete', async ({ page }) => {
  const problems = watchConsole(page);
  await page.goto(`${process.env.E2E_URL}/#/gallery`);
  await page.getByRole('searchbox', { name: 'Search prompts' }).fill(word);
  await expect(page.getByTestId('gallery-card')).toHaveCount(3);
  await expect(page.getByTestId('gallery-count')).toHaveText('3 images match the filters');
  await expectImagesLoaded(page, '.gallery-grid', 3);

  await page.getByRole('combobox', { name: 'Model' }).selectOption('shoes/checkpoint-4');
  await expect(page.getByTestId('gallery-card')).toHaveCount(2);
  await page.getByRole('combobox', { name: 'Model' }).selectOption('');
  await expect(page.getByTestId('gallery-card')).toHaveCount(3);
  // Every generated image was scored; none of these 64 px images passes the main-image rule (1,000 px at least).
  await expect(page.getByTestId('score-badge')).toHaveCount(3);
  await page.getByRole('combobox', { name: 'Passes' }).selectOption('main-image');
  await expect(page.getByText('Nothing matches these filters.')).toBeVisible();
  await page.getByRole('combobox', { name: 'Passes' }).selectOption('');
  await expect(page.getByTestId('gallery-card')).toHaveCount(3);
  // The search and the filter are the address's: a bookmark opens the same search, back returns to the last one.
  await expect(page).toHaveURL(new RegExp(`/#/gallery\\?q=${word}$`));
  await page.goto(`${process.env.E2E_URL}/#/gallery?q=${word}&model=shoes%2Fcheckpoint-4`);
  await page.reload();
  await expect(page.getByRole('searchbox', { name: 'Search prompts' })).toHaveValue(word);
  await expect(page.getByRole('combobox', { name: 'Model' })).toHaveValue('shoes/checkpoint-4');
  await expect(page.getByTestId('gallery-card')).toHaveCount(2);
  await page.goBack();
  await expect(page.getByRole('combobox', { name: 'Model' })).toHaveValue('');
  await expect(page.getByTestId('gallery-card')).toHaveCount(3);

  await page.getByRole('button', { name: 'Select all loaded' }).click();
  await expect(page.getByTestId('selection-count')).toHaveText('3 selected');
  await screenshot(page, 'gallery-selected');
  const downloadPromise = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Download ZIP' }).click();
  const download = await downloadPromise;
  expect(download.suggestedFilename()).toMatch(/^shoegen-gallery-.*\.zip$/);
  const files = unzipSync(new Uint8Array(readFileSync(await download.path())));
  const names = Object.keys(files).sort();
  expect(names.filter((n) => n.endsWith('.png'))).toHaveLength(3);
  expect(names).toContain('metadata.json');
  const metadata = JSON.parse(strFromU8(files['metadata.json'])) as { params: { prompt: string; model_name: string } }[];
  expect(metadata.map((m) => m.params.prompt)).toEqual([PROMPT, PROMPT, PROMPT]);
  expect(metadata.map((m) => m.params.model_name).sort()).toEqual(
    ['shoes/checkpoint-4', 'shoes/checkpoint-4', 'shoes/checkpoint-8']);

  // Delete one image, after confirming.
  await page.getByRole('button', { name: 'Clear selection' }).click();
  await page.getByTestId('gallery-card').first().getByRole('checkbox').check();
  await page.getByRole('button', { name: 'Delete…' }).click();
  const confirm = page.getByRole('dialog', { name: 'Delete 1 image?' });
  await expect(confirm).toBeVisible();
  await screenshot(page, 'gallery-confirm-delete');
  await confirm.getByRole('button', { name: 'Delete' }).click();
  await expect(page.getByTestId('gallery-card')).toHaveCount(2);
  await page.reload();
  await page.getByRole('searchbox', { name: 'Search prompts' }).fill(word);
  await expect(page.getByTestId('gallery-count')).toHaveText('2 images match the filters');
  await page.getByRole('searchbox', { name: 'Search prompts' }).fill('');
  await expect(page.getByTestId('gallery-count')).toHaveText(/^\d+ images?$/);
  await expectImagesLoaded(page, '.gallery-grid', await page.getByTestId('gallery-card').count());
  await screenshot(page, 'gallery');
  expect(problems).toEqual([]);
});

test('models: runs, loss curve, score chart and "Use best"; checkpoint comparison grid', async ({ page }) => {
  const problems = watchConsole(page);
  await page.goto(`${process.env.E2E_URL}/#/models`);
  const run = page.getByTestId('run-card');
  await expect(run).toHaveCount(1);
  await expect(run.getByRole('heading', { name: 'shoes' })).toBeVisible();
  await expect(run.getByRole('img', { name: 'Validation images of shoes at step 8' })).toBeVisible();
  await expect(run.getByRole('img', { name: 'Training loss of shoes' })).toBeVisible();
  await expect(run.locator('.img-box.loaded')).toHaveCount(2);
  // The setup ran `shoegen evaluate`: a point per step (0 = the base, 4, 8), the best marked, a tooltip per step.
  const chart = run.getByTestId('score-chart');
  await expect(chart.locator('circle.score-dot-main')).toHaveCount(3);
  await expect(chart.locator('.best-dot')).toHaveCount(1);
  await expect(run.getByTestId('best-badge')).toContainText(/^best: shoes\/checkpoint-\d+ \(catalogue_score \d\.\d\d\)$/);
  await chart.locator('circle.score-dot-main').nth(1).hover();
  await expect(chart.getByTestId('score-tooltip')).toContainText('shoes/checkpoint-4');
  await run.getByRole('combobox', { name: 'Metric of shoes' }).selectOption('background');
  await expect(page).toHaveURL(/#\/models\?metric=background$/);
  await expect(chart.locator('circle.score-dot-other')).toHaveCount(3);
  await screenshot(page, 'models-scores');

  await run.getByRole('checkbox', { name: 'Compare shoes/checkpoint-4' }).check();
  await run.getByRole('checkbox', { name: 'Compare shoes/checkpoint-8' }).check();
  await expect(page.getByRole('checkbox', { name: 'Compare tiny' })).toBeVisible(); // the base, for reference
  await page.getByRole('textbox', { name: 'Prompt', exact: true }).fill(`Brown suede loafers ${word}, three-quarter view`);
  await page.getByRole('spinbutton', { name: 'Seed' }).fill('99');
  await page.getByRole('button', { name: 'Build comparison' }).click();
  const grid = page.getByTestId('comparison').first();
  await expect(grid.locator('figcaption')).toHaveText(['shoes · checkpoint 4', 'shoes · checkpoint 8']);
  await expect(grid.locator('.img-box.loaded')).toHaveCount(2, { timeout: 180_000 }); // two jobs, one after the other
  await screenshot(page, 'models-comparison', true);

  await grid.getByRole('button', { name: /Open image 1/ }).nth(1).click();
  const viewer = page.getByRole('dialog', { name: 'Image details' });
  await expect(viewer.getByTestId('meta-seed')).toHaveText('99');
  await expect(viewer.getByTestId('meta-model')).toContainText('shoes/checkpoint-8');
  await page.keyboard.press('Escape');
  await run.getByRole('button', { name: 'Use best' }).click();
  await expect(page).toHaveURL(/#\/generate$/);
  await expect(page.getByRole('combobox', { name: 'Model / checkpoint' })).toHaveValue('shoes/best');
  expect(problems).toEqual([]);
});

test('phone width: no horizontal scrolling, every page usable', async ({ browser }) => {
  const page = await browser.newPage({ viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true });
  for (const name of ['generate', 'gallery', 'models', 'datasets', 'train', 'photo']) {
    await page.goto(`${process.env.E2E_URL}/#/${name}`);
    await expect(page.getByTestId('connection')).toHaveText('Connected');
    await page.waitForLoadState('networkidle');
    if (name === 'gallery') await expect(page.locator('.gallery-card .img-box.loaded').first()).toBeVisible();
    if (name === 'models') {
      await page.locator('.run-card .run-figures').scrollIntoViewIfNeeded();
      await expect(page.locator('.run-card .img-box.loaded')).toHaveCount(2);
    }
    if (name === 'datasets') await expect(page.locator('.upload-form')).toBeVisible();
    if (name === 'train') await expect(page.locator('.new-run-form')).toBeVisible();
    if (name === 'photo') await expect(page.getByTestId('photo-drop')).toBeVisible();
    // Against the phone's width: a mobile browser widens its layout viewport to content wider than the screen.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - 375);
    expect(overflow, `${name} page scrolls sideways`).toBeLessThanOrEqual(0);
    const tabs = await page.locator('.tabs').evaluate((nav) => nav.scrollWidth - nav.clientWidth);
    expect(tabs, 'every tab fits the phone').toBeLessThanOrEqual(0);
    await screenshot(page, `phone-${name}`, true);
  }
  await page.goto(`${process.env.E2E_URL}/#/gallery`);
  await page.getByRole('button', { name: /Open image 1/ }).click();
  await expect(page.getByRole('dialog', { name: 'Image details' }).locator('.img-box.loaded')).toHaveCount(1);
  await screenshot(page, 'phone-viewer');
  await page.close();
});

// The product-photo page against the open server: a rendered shoe photo in, its mask found and touched up with
// the brush, a new background on the tiny base, the result beside the original; again with the outline followed
// (the built-in ControlNet, picked from the server's list) at high resolution; then an outpaint to 16:9 with a
// plain fill, its size read from the picture itself.
import { expect, test, type Page } from '@playwright/test';
import path from 'node:path';
import { screenshot, uniqueWord, watchConsole } from './helpers';

const PHOTO = path.join(process.env.E2E_DATASET ?? '', 'images', '000000.png'); // 64 px, from shoegen sample-data

function markedShare(text: string | null): number {
  const match = /Marked: ([\d.]+)%/.exec(text ?? '');
  return match ? Number(match[1]) : 0;
}

async function brushStroke(page: Page) {
  await page.evaluate(() => window.scrollTo(0, 0)); // the photo's top clear of the sticky header
  const box = (await page.getByTestId('mask-canvas').boundingBox())!;
  // Across the upper part of the photo, where the found product is not.
  await page.mouse.move(box.x + box.width * 0.1, box.y + box.height * 0.2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.2, { steps: 8 });
  await page.mouse.move(box.x + box.width * 0.9, box.y + box.height * 0.22, { steps: 8 });
  await page.mouse.up();
}

test('product photo: find the mask, paint it, new background, then extend to 16:9', async ({ page }) => {
  const problems = watchConsole(page);
  const word = uniqueWord();
  await page.goto(`${process.env.E2E_URL}/#/photo`);
  await expect(page.getByTestId('connection')).toHaveText('Connected');
  await expect(page.getByRole('link', { name: 'Product photo' })).toHaveClass(/active/);

  await page.getByLabel('Choose a photo').setInputFiles(PHOTO);
  await expect(page.getByTestId('photo-name')).toContainText('000000.png · 64 × 64 px');
  const share = page.getByTestId('mask-share');
  await expect(share).toHaveText('Nothing marked yet');

  await page.getByRole('button', { name: 'Find product' }).click();
  await expect(share).toContainText('product found');
  const found = markedShare(await share.textContent());
  expect(found).toBeGreaterThan(3);
  expect(found).toBeLessThan(60);

  await page.getByRole('slider', { name: 'Brush size' }).fill('30');
  await brushStroke(page);
  await expect.poll(async () => markedShare(await share.textContent())).toBeGreaterThan(found);
  const painted = markedShare(await share.textContent());
  await page.getByRole('button', { name: 'Undo' }).click();
  await expect.poll(async () => markedShare(await share.textContent())).toBe(found);
  await brushStroke(page);
  await expect.poll(async () => markedShare(await share.textContent())).toBe(painted);
  await screenshot(page, 'photo-mask');

  // New background (the default mode) on the tiny base, few steps.
  await expect(page.getByRole('radio', { name: 'New background' })).toBeChecked();
  await expect(page.getByTestId('result-size')).toHaveText('Result: 64 × 64 px');
  await page.getByRole('textbox', { name: 'Describe the new scene' }).fill(`on a wooden table, morning light ${word}`);
  await page.getByText('Advanced settings').click();
  await page.getByRole('spinbutton', { name: 'Steps' }).fill('4');
  await page.getByRole('button', { name: 'Generate', exact: true }).click();

  const result = page.getByTestId('photo-result');
  await expect(result).toHaveAttribute('data-status', 'done');
  await expect(result.getByRole('heading', { name: 'New background' })).toBeVisible();
  const original = result.getByTestId('compare-original');
  const generated = result.getByTestId('compare-result');
  await expect(generated.locator('.img-box.loaded')).toHaveCount(1);
  await expect(original.getByRole('img')).toBeVisible();
  const [left, right] = [(await original.boundingBox())!, (await generated.boundingBox())!];
  expect(right.x).toBeGreaterThanOrEqual(left.x + left.width); // beside it, to its right
  expect(Math.abs(right.y - left.y)).toBeLessThan(4);
  await expect(result.getByRole('link', { name: 'See it in the gallery' })).toHaveAttribute('href', new RegExp(word));
  await result.getByRole('radio', { name: 'Slider' }).check();
  await expect(result.getByTestId('compare-slider').locator('.img-box.loaded')).toHaveCount(1);
  await screenshot(page, 'photo-background');

  // The image's record says what was done.
  await result.getByRole('button', { name: 'Details' }).click();
  const viewer = page.getByRole('dialog', { name: 'Image details' });
  await expect(viewer.getByTestId('viewer-prompt')).toContainText(word);
  await page.keyboard.press('Escape');

  // Again, following the outline with the built-in ControlNet from the server's list, at high resolution.
  await page.getByRole('checkbox', { name: 'Follow the outline' }).check();
  const outline = page.getByRole('combobox', { name: 'Outline model (ControlNet)' });
  await expect(outline).toHaveValue('tiny');
  await expect(outline.locator('option', { hasText: 'tiny (built-in test model' })).toHaveCount(1);
  await page.getByRole('checkbox', { name: 'High resolution 2x' }).check();
  await expect(page.getByRole('combobox', { name: 'Upscaler' })).toHaveValue('lanczos');
  await expect(page.getByTestId('result-size')).toHaveText('Result: 128 × 128 px');
  await page.getByRole('button', { name: 'Generate', exact: true }).click();
  const sharper = result.getByTestId('compare-result').locator('.img-box.loaded img');
  await expect.poll(async () => sharper.evaluate((img: HTMLImageElement) => img.naturalWidth), { timeout: 60_000 })
    .toBe(128);
  await expect(result).toHaveAttribute('data-status', 'done');
  await page.getByRole('checkbox', { name: 'Follow the outline' }).uncheck();

  // Extend to 16:9 with a plain fill: nothing to generate, the size is the format's.
  await page.getByRole('radio', { name: 'Extend to a format' }).check();
  await expect(page).toHaveURL(/mode=outpaint/);
  await page.getByRole('radio', { name: '16:9' }).check();
  await page.getByRole('radio', { name: 'Plain background (catalogue)' }).check();
  await expect(page.getByRole('checkbox', { name: 'High resolution 2x' })).toBeDisabled(); // nothing to refine
  await expect(page.getByTestId('result-size')).toHaveText('Result: 112 × 64 px');
  await page.getByRole('button', { name: 'Generate', exact: true }).click();
  await expect(result.getByRole('heading', { name: 'Extend to a format' })).toBeVisible();
  await expect(result).toHaveAttribute('data-status', 'done');
  const picture = result.getByTestId('compare-result').locator('.img-box.loaded img');
  await expect(picture).toHaveCount(1);
  const size = await picture.evaluate((img: HTMLImageElement) => [img.naturalWidth, img.naturalHeight]);
  expect(size).toEqual([112, 64]);
  await expect(result.getByTestId('compare-result')).toContainText('112 × 64 px');
  await screenshot(page, 'photo-outpaint', true);
  expect(problems).toEqual([]);
});

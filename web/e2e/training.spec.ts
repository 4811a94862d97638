// Training in the studio against a real server (its own models and datasets folders): upload a folder of product
// photos with a broken file and an empty caption, read the report, fix the caption, start a short run on the tiny
// base, watch its loss and validation images arrive, stop it, resume it to the end, generate with a checkpoint,
// evaluate it from the Models page.
import { expect, test } from '@playwright/test';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { screenshot, watchConsole } from './helpers';

const DATASET = 'e2e-shoes';
const RUN = 'e2e-run';
// Long enough to be stopped while it trains on a fast CPU (5 steps/s), short on a slow one (1 step/s).
const STEPS = 48;
const EVERY = 8;
const FIXED_CAPTION = 'A professional product photo of red canvas sneakers, centered on white background';

/** The sample photos as a user's folder: captions.json with one caption emptied, and a .png that is no image. */
function datasetFolder(): { root: string; folder: string } {
  const root = mkdtempSync(path.join(os.tmpdir(), 'shoegen-e2e-upload-'));
  const folder = path.join(root, DATASET);
  cpSync(process.env.E2E_DATASET!, folder, { recursive: true });
  const captions = JSON.parse(readFileSync(path.join(folder, 'captions.json'), 'utf8')) as { caption: string }[];
  captions[3].caption = '';
  writeFileSync(path.join(folder, 'captions.json'), JSON.stringify(captions, null, 2));
  writeFileSync(path.join(folder, 'images', 'broken.png'), 'this is not a picture');
  return { root, folder };
}

test.describe.configure({ mode: 'serial' });

test('datasets and training: upload, report, caption fix, run, stop, resume, generate, evaluate', async ({ page }) => {
  test.setTimeout(600_000);
  const problems = watchConsole(page);
  const { root, folder } = datasetFolder();
  await page.goto(`${process.env.E2E_TRAIN_URL}/#/datasets`);
  await expect(page.getByTestId('connection')).toHaveText('Connected');

  // Upload a folder: each file goes with its path inside it; the folder names the dataset.
  await page.getByLabel('Choose a folder').setInputFiles(folder);
  await expect(page.getByTestId('upload-picked')).toContainText('14 files');
  await expect(page.getByRole('textbox', { name: 'Dataset name' })).toHaveValue(DATASET);
  await page.getByRole('button', { name: 'Upload dataset' }).click();
  const detail = page.getByTestId('dataset-detail');
  await expect(detail.getByRole('heading', { name: DATASET })).toBeVisible();
  await expect(page).toHaveURL(new RegExp(`#/datasets\\?name=${DATASET}$`));
  rmSync(root, { recursive: true, force: true });

  // The report names the refused file and the image whose caption is empty.
  await expect(detail.getByTestId('report-rejected')).toContainText('images/broken.png');
  await expect(detail.getByTestId('report-skipped')).toContainText('images/000003.png');
  await expect(detail.getByTestId('report-verdict')).toContainText('11 images ready to train');
  await expect(page.getByTestId('dataset-item')).toContainText('12 images');
  await screenshot(page, 'dataset-report', true);

  // Fix the caption in place: the report follows.
  const caption = page.getByRole('textbox', { name: 'Caption of images/000003.png' });
  await expect(caption).toHaveValue('');
  await caption.fill(FIXED_CAPTION);
  await page.getByRole('button', { name: 'Save caption of images/000003.png' }).click();
  await expect(page.locator('[data-file="images/000003.png"]').getByRole('status')).toHaveText('Saved');
  await expect(detail.getByTestId('report-verdict')).toHaveText('OK: 12 images ready to train');
  await page.reload();
  await expect(page.getByRole('textbox', { name: 'Caption of images/000003.png' })).toHaveValue(FIXED_CAPTION);

  // Train on it: the dataset comes preselected; the quick-test recipe, shortened in the advanced settings.
  await page.getByRole('link', { name: 'Train on this dataset' }).click();
  await expect(page).toHaveURL(new RegExp(`#/train\\?dataset=${DATASET}$`));
  await expect(page.getByRole('combobox', { name: 'Dataset' })).toHaveValue(DATASET);
  await expect(page.getByRole('combobox', { name: 'Recipe' })).toHaveValue('quick-test');
  await page.getByRole('textbox', { name: 'Run name' }).fill(RUN);
  await page.getByTestId('advanced-settings').locator('summary').click();
  const setting = (name: RegExp) => page.getByRole('spinbutton', { name });
  await expect(setting(/^Max train steps/)).toHaveValue('40'); // the recipe's value
  await setting(/^Max train steps/).fill(String(STEPS));
  await setting(/^Train batch size/).fill('2');
  await setting(/^Checkpointing steps/).fill(String(EVERY));
  await setting(/^Validation steps/).fill(String(EVERY));
  await expect(page.getByTestId('advanced-settings')).toContainText('4 changed from the recipe');
  await screenshot(page, 'train-new-run', true);
  await page.getByRole('button', { name: 'Start training' }).click();

  // The live view: progress, loss points and a validation image arrive while it trains.
  await expect(page).toHaveURL(new RegExp(`#/train\\?run=${RUN}$`));
  const run = page.getByTestId('run-detail');
  await expect(run).toHaveAttribute('data-status', 'running');
  await expect(page.getByTestId('loss-chart')).toHaveAttribute('data-points', /^[1-9]\d*$/);
  await expect(run.getByTestId('validation-step')).toContainText(/step \d+ \(newest\)/);
  await expect(run.locator('.validation-sheets .img-box.loaded')).toHaveCount(1);
  const points = Number(await page.getByTestId('loss-chart').getAttribute('data-points'));
  await expect.poll(async () => Number(await page.getByTestId('loss-chart').getAttribute('data-points')))
    .toBeGreaterThan(points);
  await screenshot(page, 'train-live', true);

  // Stop: it writes a checkpoint first and can be resumed.
  await run.getByRole('button', { name: 'Stop', exact: true }).click();
  await expect(run).toHaveAttribute('data-status', 'stopped');
  await expect(run.getByTestId('run-status')).toHaveText('Stopped');
  const stoppedAt = Number((await run.getByTestId('run-step').textContent())?.match(/step (\d+)/)?.[1]);
  expect(stoppedAt).toBeGreaterThan(0);
  expect(stoppedAt).toBeLessThan(STEPS);
  await run.getByRole('button', { name: 'Resume' }).click();
  await expect(run).toHaveAttribute('data-status', 'done');
  await expect(run.getByTestId('run-step')).toContainText(`step ${STEPS} of ${STEPS}`);
  await expect(page.getByTestId('run-item')).toHaveAttribute('data-run-status', 'done');
  await screenshot(page, 'train-done', true);

  // A second run by the same name: the server's refusal is shown on the name field.
  await page.getByRole('link', { name: 'New run' }).click();
  await page.getByRole('textbox', { name: 'Run name' }).fill(RUN);
  await page.getByRole('button', { name: 'Start training' }).click();
  await expect(page.getByRole('textbox', { name: 'Run name' })).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByTestId('new-run-error')).toContainText(RUN);
  await page.getByTestId('run-item').click();

  // Generate with it: the link preselects the final weights; a checkpoint is one pick away.
  await run.getByRole('link', { name: 'Generate with this run' }).click();
  await expect(page).toHaveURL(/#\/generate$/);
  const model = page.getByRole('combobox', { name: 'Model / checkpoint' });
  await expect(model).toHaveValue(RUN);
  await model.selectOption(`${RUN}/checkpoint-${EVERY}`);
  await page.getByRole('textbox', { name: 'Prompt', exact: true }).fill(FIXED_CAPTION);
  await page.getByRole('spinbutton', { name: 'Number of images' }).fill('1');
  await page.getByRole('spinbutton', { name: 'Steps' }).fill('4');
  await page.getByRole('button', { name: 'Generate 1 image' }).click();
  const card = page.getByTestId('job-card').first();
  await expect(card).toHaveAttribute('data-status', 'done');
  await expect(card.locator('.result-grid .img-box.loaded')).toHaveCount(1);
  await card.getByRole('button', { name: /Open image 1/ }).click();
  await expect(page.getByRole('dialog', { name: 'Image details' }).getByTestId('meta-model'))
    .toContainText(`${RUN}/checkpoint-${EVERY}`);

  // Evaluate it from its card on the Models page: its progress, then its scores and the best checkpoint.
  await page.keyboard.press('Escape');
  await expect(page.getByRole('dialog', { name: 'Image details' })).toBeHidden();
  await page.getByRole('link', { name: 'Models', exact: true }).click();
  const runCard = page.getByTestId('run-card').filter({ has: page.getByRole('heading', { name: RUN }) });
  await expect(runCard.getByTestId('not-evaluated')).toBeVisible();
  await runCard.getByRole('combobox', { name: `Images per prompt for ${RUN}` }).selectOption('1');
  await runCard.getByRole('button', { name: 'Evaluate checkpoints' }).click();
  await expect(runCard.getByTestId('evaluation-step')).toBeVisible();
  await expect(runCard.getByTestId('best-badge')).toContainText(`best: ${RUN}/`, { timeout: 240_000 });
  await expect(runCard.getByTestId('score-chart')).toBeVisible();
  await expect(runCard.getByRole('button', { name: 'Evaluate again' })).toBeEnabled();
  await screenshot(page, 'models-evaluated', true);
  expect(problems).toEqual([]);
});

import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { ApiError } from '../../api/http';
import type { RunCreate } from '../../api/types';
import { FIELDS, RECIPES } from './fixtures';
import { NewRunForm } from './NewRunForm';

function renderForm(onSubmit = vi.fn(async (_body: RunCreate) => undefined), defaultRecipe = 'quick-test') {
  render(<NewRunForm datasets={['boots', 'shoes']} recipes={RECIPES} defaultRecipe={defaultRecipe} fields={FIELDS}
    initialDataset="shoes" onSubmit={onSubmit} />);
  return onSubmit;
}

const spin = (name: RegExp) => screen.getByRole('spinbutton', { name });

describe('NewRunForm', () => {
  it("starts from the recipe for the server's base: another base's adapters could not be used here", () => {
    renderForm(undefined, 'original');
    expect(screen.getByRole('combobox', { name: 'Recipe' })).toHaveValue('original');
    expect(spin(/^Max train steps/)).toHaveValue(3000);
  });

  it('builds the advanced settings from the field list, with help, bounds and group headings', () => {
    renderForm();
    expect(screen.getByRole('combobox', { name: 'Dataset' })).toHaveValue('shoes');
    expect(screen.getByRole('combobox', { name: 'Recipe' })).toHaveValue('quick-test'); // the server's default
    const panel = screen.getByTestId('advanced-settings');
    expect(within(panel).getAllByRole('group').map((g) => g.querySelector('legend')?.textContent)).toEqual(
      ['Images', 'Optimizer', 'Hardware', 'Validation']);
    const resolution = spin(/^Resolution/);
    expect(resolution).toHaveValue(64);
    expect(resolution).toHaveAttribute('min', '64');
    expect(resolution).toHaveAttribute('max', '2048');
    expect(resolution).toHaveAccessibleDescription('Side of the training images. Allowed: from 64 to 2048.');
    expect(screen.getByRole('checkbox', { name: /Center crop/ })).not.toBeChecked();
    expect(screen.getByRole('combobox', { name: /Mixed precision/ })).toHaveValue('no');
    expect(screen.getByRole('textbox', { name: /Validation metrics/ })).toHaveAccessibleDescription(
      'What validation_metrics does. Separate values with commas.');
  });

  it('picking a recipe fills the settings; a change is marked and can be reset', async () => {
    const user = userEvent.setup();
    renderForm();
    await user.selectOptions(screen.getByRole('combobox', { name: 'Recipe' }), 'original');
    expect(spin(/^Resolution/)).toHaveValue(512);
    expect(spin(/^Max train steps/)).toHaveValue(3000);
    expect(screen.queryByRole('textbox', { name: 'Validation prompt 1' })).not.toBeInTheDocument();
    await user.selectOptions(screen.getByRole('combobox', { name: 'Recipe' }), 'quick-test');
    expect(spin(/^Resolution/)).toHaveValue(64);
    expect(spin(/^Max train steps/)).toHaveValue(40);
    expect(screen.getByRole('textbox', { name: 'Validation prompt 1' })).toHaveValue('white sneakers');
    await user.clear(spin(/^Max train steps/));
    await user.type(spin(/^Max train steps/), '12');
    expect(screen.getByTestId('setting-max_train_steps')).toHaveTextContent('recipe: 40');
    expect(screen.getByTestId('advanced-settings')).toHaveTextContent('1 changed from the recipe');
    await user.click(screen.getByRole('button', { name: 'Reset Max train steps' }));
    expect(spin(/^Max train steps/)).toHaveValue(40);
  });

  it('sends the name, dataset, recipe, changed settings and prompts', async () => {
    const user = userEvent.setup();
    const onSubmit = renderForm();
    await user.type(screen.getByRole('textbox', { name: 'Run name' }), 'my-run');
    await user.selectOptions(screen.getByRole('combobox', { name: 'Recipe' }), 'quick-test');
    await user.clear(spin(/^Max train steps/));
    await user.type(spin(/^Max train steps/), '12');
    await user.click(screen.getByRole('button', { name: 'Add prompt' }));
    await user.type(screen.getByRole('textbox', { name: 'Validation prompt 2' }), ' red sneakers ');
    await user.click(screen.getByRole('button', { name: 'Add prompt' })); // an empty row is not sent
    await user.click(screen.getByRole('button', { name: 'Start training' }));
    expect(onSubmit).toHaveBeenCalledWith({ name: 'my-run', dataset: 'shoes', recipe: 'quick-test',
      settings: { max_train_steps: 12 }, validation_prompts: ['white sneakers', 'red sneakers'] });
  });

  it('checks the bounds before sending', async () => {
    const user = userEvent.setup();
    const onSubmit = renderForm();
    await user.clear(spin(/^Resolution/));
    await user.type(spin(/^Resolution/), '10');
    await user.click(screen.getByRole('button', { name: 'Start training' }));
    expect(onSubmit).not.toHaveBeenCalled();
    expect(spin(/^Resolution/)).toHaveAccessibleDescription('Must be from 64 to 2048.');
    expect(screen.getByRole('alert')).toHaveTextContent('Some values need fixing');
  });

  it('shows the server refusal beside the field it names', async () => {
    const user = userEvent.setup();
    renderForm(vi.fn(async () => {
      throw new ApiError('validation', 'settings.learning_rate: Input should be less than or equal to 1',
        { status: 422 });
    }));
    await user.click(screen.getByRole('button', { name: 'Start training' }));
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'The server refused: settings.learning_rate: Input should be less than or equal to 1');
    expect(spin(/^Learning rate/)).toHaveAttribute('aria-invalid', 'true');
    expect(spin(/^Learning rate/)).toHaveAccessibleDescription('Input should be less than or equal to 1');
    expect(screen.getByTestId('advanced-settings')).toHaveAttribute('open');
  });

  it('a taken name is shown on the name field', async () => {
    const user = userEvent.setup();
    renderForm(vi.fn(async () => { throw new ApiError('http', 'a run named shoes-1 exists', { status: 409 }); }));
    await user.click(screen.getByRole('button', { name: 'Start training' }));
    expect(await screen.findByText('a run named shoes-1 exists', { selector: '.field-error' })).toBeInTheDocument();
  });
});

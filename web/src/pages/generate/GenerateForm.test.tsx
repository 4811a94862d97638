import { render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useState } from 'react';
import { describe, expect, it, vi } from 'vitest';
import { ApiError } from '../../api/http';
import type { GenerateCreate, ModelPublic } from '../../api/types';
import { DEFAULT_FORM, LIMITS, withNativeSize, type GenerateForm as FormState } from '../../lib/form';
import { MODELS } from '../../test/fetchMock';
import { GenerateForm } from './GenerateForm';

// The form as the studio starts it on the tiny base: the contract's defaults at the base's native size.
const STARTING_FORM = withNativeSize(DEFAULT_FORM, { width: 64, height: 64, far: 2 });

function Harness({ onSubmit, initial = STARTING_FORM, onEnterKey, captions }: {
  onSubmit: (body: GenerateCreate) => Promise<void>;
  initial?: FormState;
  onEnterKey?: () => void;
  captions?: string[];
}) {
  const [form, setForm] = useState(initial);
  return (
    <GenerateForm value={form} onChange={setForm} models={MODELS.models as ModelPublic[]} baseModel="tiny"
      nativeSize={{ width: 64, height: 64, far: 2 }} samplers={['DPM++ 2M Karras', 'Euler a']} onSubmit={onSubmit}
      upscalers={[{ name: 'lanczos', source: 'built-in' }, { name: '4x-UltraSharp', source: 'file' }]}
      onEnterKey={onEnterKey} captions={captions} />
  );
}

const field = (name: string | RegExp) => screen.getByRole('spinbutton', { name });

describe('GenerateForm', () => {
  it('shows errors next to the fields and does not submit an invalid form', async () => {
    const user = userEvent.setup();
    const onSubmit = vi.fn(async () => undefined);
    render(<Harness onSubmit={onSubmit} />);
    await user.clear(field('Steps'));
    await user.type(field('Steps'), String(LIMITS.steps.max + 1));
    await user.click(screen.getByRole('button', { name: /Generate 4 images/ }));

    expect(onSubmit).not.toHaveBeenCalled();
    const prompt = screen.getByRole('textbox', { name: 'Prompt' });
    expect(prompt).toHaveAttribute('aria-invalid', 'true');
    expect(document.getElementById(prompt.getAttribute('aria-describedby')!)).toHaveTextContent(
      'Describe the photo you want.');
    expect(field('Steps')).toHaveAttribute('aria-invalid', 'true');
    expect(screen.getByText(`Steps must be between ${LIMITS.steps.min} and ${LIMITS.steps.max}.`)).toBeInTheDocument();
    await waitFor(() => expect(prompt).toHaveFocus());
  });

  it('submits the request built from the controls', async () => {
    const user = userEvent.setup();
    const onSubmit = vi.fn(async () => undefined);
    render(<Harness onSubmit={onSubmit} initial={{ ...DEFAULT_FORM, width: '64', height: '64' }} />);
    await user.type(screen.getByRole('textbox', { name: 'Prompt' }), 'red sneakers');
    await user.click(screen.getByRole('button', { name: 'Add “side view” to the prompt' }));
    await user.selectOptions(screen.getByRole('combobox', { name: 'Model / checkpoint' }), 'shoes/checkpoint-4');
    await user.clear(field('Number of images'));
    await user.type(field('Number of images'), '2');
    await user.click(screen.getByRole('radio', { name: 'Fixed' }));
    await user.clear(field('Seed value'));
    await user.type(field('Seed value'), '777');
    await user.click(screen.getByRole('button', { name: /Generate 2 images/ }));

    expect(onSubmit).toHaveBeenCalledWith(expect.objectContaining({
      prompt: 'red sneakers, side view', model_name: 'shoes/checkpoint-4',
      loras: [{ name: 'shoes/checkpoint-4', weight: 1 }], num_images: 2, seed: 777, width: 64, height: 64,
      num_inference_steps: 30, guidance_scale: 7.5,
    }));
  });

  it('high resolution: the server’s upscalers, the size it gives, and the request', async () => {
    const user = userEvent.setup();
    const onSubmit = vi.fn(async () => undefined);
    render(<Harness onSubmit={onSubmit} initial={{ ...STARTING_FORM, prompt: 'red sneakers' }} />);
    expect(screen.queryByRole('combobox', { name: 'Upscaler' })).not.toBeInTheDocument();
    const checkbox = screen.getByRole('checkbox', { name: 'High resolution 2x' });
    expect(checkbox).toHaveAccessibleDescription(/to 128 × 128 px/);
    await user.click(checkbox);
    const upscaler = screen.getByRole('combobox', { name: 'Upscaler' });
    expect([...(upscaler as HTMLSelectElement).options].map((o) => o.text)).toEqual(['Lanczos (built in)',
      '4x-UltraSharp']);
    await user.selectOptions(upscaler, '4x-UltraSharp');
    await user.click(screen.getByRole('button', { name: /Generate 4 images/ }));
    expect(onSubmit).toHaveBeenCalledWith(expect.objectContaining({ width: 64, height: 64, hires_scale: 2,
      hires_upscaler: '4x-UltraSharp', hires_strength: 0.5 }));
  });

  it('the new-seed button fixes a fresh random seed', async () => {
    const user = userEvent.setup();
    render(<Harness onSubmit={vi.fn()} />);
    expect(field('Seed value')).toBeDisabled();
    await user.click(screen.getByRole('button', { name: 'New random seed' }));
    const first = (field('Seed value') as HTMLInputElement).value;
    expect(field('Seed value')).toBeEnabled();
    expect(Number(first)).toBeGreaterThanOrEqual(0);
    await user.click(screen.getByRole('button', { name: 'New random seed' }));
    expect((field('Seed value') as HTMLInputElement).value).not.toBe(first);
  });

  it('offers the training captions as whole prompts', async () => {
    const user = userEvent.setup();
    render(<Harness onSubmit={vi.fn()} captions={['A professional product photo of yellow boots']} />);
    await user.click(screen.getByRole('button', { name: /Use training caption/ }));
    expect(screen.getByRole('textbox', { name: 'Prompt' })).toHaveValue('A professional product photo of yellow boots');
  });

  it('puts a 422 from the server next to the field it names', async () => {
    const user = userEvent.setup();
    const onSubmit = vi.fn(async () => {
      throw new ApiError('validation', 'Some settings were rejected: width: Input should be a multiple of 8',
        { status: 422, fieldErrors: [{ field: 'width', message: 'Input should be a multiple of 8' }] });
    });
    render(<Harness onSubmit={onSubmit} initial={{ ...STARTING_FORM, prompt: 'boots' }} />);
    await user.click(screen.getByRole('button', { name: /Generate/ }));
    const width = screen.getByRole('combobox', { name: 'Width' });
    expect(width).toHaveAttribute('aria-invalid', 'true');
    expect(document.getElementById(width.getAttribute('aria-describedby')!)).toHaveTextContent(
      'Input should be a multiple of 8');
    expect(screen.getByRole('alert')).toHaveTextContent('Request rejected');
  });

  it('explains a 401 and offers to enter the key', async () => {
    const user = userEvent.setup();
    const onEnterKey = vi.fn();
    render(<Harness onEnterKey={onEnterKey} initial={{ ...STARTING_FORM, prompt: 'boots' }} onSubmit={async () => {
      throw new ApiError('unauthorized', 'This server needs an API key.', { status: 401 });
    }} />);
    await user.click(screen.getByRole('button', { name: /Generate/ }));
    expect(screen.getByRole('alert')).toHaveTextContent('API key required');
    await user.click(screen.getByRole('button', { name: 'Enter API key' }));
    expect(onEnterKey).toHaveBeenCalled();
  });

  it('shows when to retry after a 429', async () => {
    const user = userEvent.setup();
    render(<Harness initial={{ ...STARTING_FORM, prompt: 'boots' }} onSubmit={async () => {
      throw new ApiError('busy', 'The server is busy: its generation queue is full. Try again in 30 s.',
        { status: 429, retryAfter: 30 });
    }} />);
    await user.click(screen.getByRole('button', { name: /Generate/ }));
    const alert = screen.getByRole('alert');
    expect(alert).toHaveTextContent('Server busy');
    expect(alert).toHaveTextContent('Try again in 30 s.');
    await waitFor(() => expect(alert).toHaveTextContent(/You can retry in (30|29) s/));
  });
});

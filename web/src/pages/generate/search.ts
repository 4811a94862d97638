// The Generate page's address can name the model to start from (#/generate?model=my-run/checkpoint-40), so that
// other pages (a finished training run) can link to it; the form takes it once and the address drops it again.
import { useNavigate, useSearch } from '@tanstack/react-router';
import { useEffect } from 'react';
import { useSetGenerateForm } from '../../state/generateForm';

export interface GenerateSearch {
  model?: string;
}

const MODEL_NAME = /^[A-Za-z0-9._\-/]{1,200}$/;

export function validateGenerateSearch(raw: Record<string, unknown>): GenerateSearch {
  return { model: typeof raw.model === 'string' && MODEL_NAME.test(raw.model) ? raw.model : undefined };
}

/** The model in the address into the form (the rest of the form kept), then the address without it. */
export function useModelFromAddress(): void {
  const { model } = useSearch({ from: '/generate' });
  const setForm = useSetGenerateForm();
  const navigate = useNavigate({ from: '/generate' });
  useEffect(() => {
    if (model === undefined) return;
    setForm((current) => ({ ...current, model }));
    void navigate({ search: {}, replace: true });
  }, [model, setForm, navigate]);
}

// The generate form's values, kept while switching pages (its own context: typing re-renders only the form),
// and the ways into it from a stored image or a model.
import { useNavigate } from '@tanstack/react-router';
import {
  createContext, useCallback, useState, type Dispatch, type ReactNode, type SetStateAction,
} from 'react';
import { useBaseModel, useNativeSize } from '../api/queries';
import type { GalleryImagePublic } from '../api/types';
import { DEFAULT_FORM, formFromImage, withNativeSize, type GenerateForm } from '../lib/form';
import { useProvided } from './createStateContext';
import { useSetViewer } from './dialogs';
import { useToast } from './toasts';

const FormContext = createContext<GenerateForm | null>(null);
const SetFormContext = createContext<Dispatch<SetStateAction<GenerateForm>> | null>(null);

export function GenerateFormProvider({ children }: { children: ReactNode }) {
  const [form, setForm] = useState(DEFAULT_FORM);
  // The size starts at the base's native size (GET /api/models) once it is known, unless one was chosen. Set
  // while rendering, so that the form never shows an empty size once the models are known.
  const native = useNativeSize();
  if (native && !form.width && !form.height) setForm((f) => withNativeSize(f, native));
  return (
    <SetFormContext.Provider value={setForm}>
      <FormContext.Provider value={form}>{children}</FormContext.Provider>
    </SetFormContext.Provider>
  );
}

export function useGenerateForm(): GenerateForm {
  return useProvided(FormContext, 'useGenerateForm outside GenerateFormProvider');
}

export function useSetGenerateForm(): Dispatch<SetStateAction<GenerateForm>> {
  return useProvided(SetFormContext, 'useSetGenerateForm outside GenerateFormProvider');
}

/** "Use these settings": the image's settings into the form, then the generate page. */
export function useApplySettings(): (image: GalleryImagePublic) => void {
  const setForm = useSetGenerateForm();
  const setViewer = useSetViewer();
  const baseModel = useBaseModel();
  const navigate = useNavigate();
  const toast = useToast();
  return useCallback((image: GalleryImagePublic) => {
    setForm((current) => formFromImage(image, current, baseModel).form);
    const { notes } = formFromImage(image, DEFAULT_FORM, baseModel); // the notes depend on the image alone
    setViewer(null);
    void navigate({ to: '/generate' });
    toast(notes.length ? `Settings loaded. ${notes.join(' ')}` : 'Settings loaded into the form.');
  }, [setForm, setViewer, baseModel, navigate, toast]);
}

/** "Use best" and the like: a model into the form (the rest of it kept), then the generate page. */
export function useGenerateWith(): (model: string, label: string) => void {
  const setForm = useSetGenerateForm();
  const navigate = useNavigate();
  const toast = useToast();
  return useCallback((model: string, label: string) => {
    setForm((current) => ({ ...current, model }));
    void navigate({ to: '/generate' });
    toast(`${label} selected in the form.`);
  }, [setForm, navigate, toast]);
}

// The Training page's address: the run shown (#/train?run=my-run), or the new-run form with a dataset picked
// (#/train?dataset=shoes, where the Datasets page's "Train on this dataset" leads).
import { useNavigate, useSearch } from '@tanstack/react-router';
import { useCallback } from 'react';

export interface TrainSearch {
  run?: string;
  dataset?: string;
}

const NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$/;

function name(value: unknown): string | undefined {
  return typeof value === 'string' && NAME.test(value) ? value : undefined;
}

export function validateTrainSearch(raw: Record<string, unknown>): TrainSearch {
  return { run: name(raw.run), dataset: name(raw.dataset) };
}

/** The address's run and dataset, and the way to show a run (or the form: null). */
export function useTrainSearch(): TrainSearch & { showRun: (run: string | null) => void } {
  const search = useSearch({ from: '/train' });
  const navigate = useNavigate({ from: '/train' });
  const showRun = useCallback((run: string | null) => {
    void navigate({ search: run ? { run } : {}, resetScroll: false });
  }, [navigate]);
  return { ...search, showRun };
}

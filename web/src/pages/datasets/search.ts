// The Datasets page's address: the dataset shown and the page of its captions (#/datasets?name=shoes&page=2).
import { useNavigate, useSearch } from '@tanstack/react-router';
import { useCallback } from 'react';

export interface DatasetsSearch {
  name?: string;
  /** The page of the captions table, 1 when absent. */
  page?: number;
}

const NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$/;

export function validateDatasetsSearch(raw: Record<string, unknown>): DatasetsSearch {
  const page = Number(raw.page);
  return {
    name: typeof raw.name === 'string' && NAME.test(raw.name) ? raw.name : undefined,
    page: Number.isInteger(page) && page > 1 ? page : undefined,
  };
}

export function useDatasetsSearch(): DatasetsSearch & { show: (name: string | null, page?: number) => void } {
  const search = useSearch({ from: '/datasets' });
  const navigate = useNavigate({ from: '/datasets' });
  const show = useCallback((name: string | null, page?: number) => {
    void navigate({ search: name ? { name, page: page && page > 1 ? page : undefined } : {}, resetScroll: false });
  }, [navigate]);
  return { ...search, show };
}

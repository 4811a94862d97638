// The API key saved in this browser. Saving a new one drops every cached answer and asks again with it.
import { useQueryClient } from '@tanstack/react-query';
import { useCallback, useSyncExternalStore } from 'react';
import { getApiKey, setApiKey } from '../api/http';
import { clearImageCache } from '../components/ApiImage';

const listeners = new Set<() => void>();

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function useApiKey(): string {
  return useSyncExternalStore(subscribe, getApiKey);
}

export function useSaveApiKey(): (key: string) => void {
  const queryClient = useQueryClient();
  return useCallback((key: string) => {
    setApiKey(key);
    for (const listener of listeners) listener();
    clearImageCache();
    void queryClient.resetQueries();
  }, [queryClient]);
}

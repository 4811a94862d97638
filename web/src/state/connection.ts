// Whether the server answers, and with this key: the state of the models query, which every part of the UI
// needs anyway.
import { useQueryClient } from '@tanstack/react-query';
import { useCallback } from 'react';
import { toApiError, type ApiError } from '../api/http';
import { useModels } from '../api/queries';

export type Connection = 'checking' | 'online' | 'needs-key' | 'offline' | 'error';

export function useConnection(): { connection: Connection; error: ApiError | null } {
  const { status, fetchStatus, error } = useModels();
  if (status === 'pending' || (status === 'error' && fetchStatus === 'fetching')) {
    return { connection: 'checking', error: null };
  }
  if (status === 'success') return { connection: 'online', error: null };
  const apiError = toApiError(error);
  const connection = apiError.kind === 'unauthorized' ? 'needs-key' : apiError.kind === 'network' ? 'offline' : 'error';
  return { connection, error: apiError };
}

/** Ask the server again, from scratch: the connection, and everything on screen. */
export function useRetryConnection(): () => void {
  const queryClient = useQueryClient();
  return useCallback(() => void queryClient.resetQueries(), [queryClient]);
}

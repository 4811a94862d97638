// The one QueryClient of the app. Failures are not retried behind the user's back (the UI offers Retry);
// a request that finds the server unreachable or the key refused makes the connection check run again,
// so the header and the API-key prompt follow what the server says.
import { MutationCache, QueryCache, QueryClient } from '@tanstack/react-query';
import { toApiError } from './http';
import { queryKeys } from './queries';

export function createQueryClient(): QueryClient {
  const recheckConnection = (error: unknown) => {
    const kind = toApiError(error).kind;
    if (kind === 'unauthorized' || kind === 'network') {
      void client.invalidateQueries({ queryKey: queryKeys.models });
    }
  };
  const client: QueryClient = new QueryClient({
    queryCache: new QueryCache({
      onError: (error, query) => {
        if (query.queryKey[0] !== queryKeys.models[0]) recheckConnection(error);
      },
    }),
    mutationCache: new MutationCache({ onError: recheckConnection }),
    defaultOptions: {
      queries: { retry: false, refetchOnWindowFocus: false },
      mutations: { retry: false },
    },
  });
  return client;
}

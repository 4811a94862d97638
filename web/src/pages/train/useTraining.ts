// The Training page's server state: recipes and fields, one run (polled while it moves), its log
// (fetched incrementally into the cache), and the actions on a run.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../api/endpoints';
import type { RunCreate, RunPublic } from '../../api/types';
import { queryKeys, RUNS_POLL_MS } from '../../api/queries';
import { EMPTY_LOG, mergeLog, type RunLog } from './log';
import type { RunAction } from './RunControls';
import { isLive } from './status';

// The settings' names and bounds change only with the server, but a tab can outlive a server upgrade: read again
// when the page is opened after a while, so that it does not send settings the new server renamed.
export const RECIPES_STALE_MS = 5 * 60_000;

export function useRecipes() {
  return useQuery({ queryKey: queryKeys.recipes, queryFn: ({ signal }) => api.recipes(signal),
    staleTime: RECIPES_STALE_MS });
}

export function useRun(name: string) {
  const queryClient = useQueryClient();
  return useQuery({
    queryKey: queryKeys.run(name),
    queryFn: async ({ signal }) => {
      const run = await api.run(name, signal);
      const before = queryClient.getQueryData<RunPublic>(queryKeys.run(name));
      // A new checkpoint or final weights: the Generate page's model list (kept otherwise) asks again.
      if (before && (before.checkpoints.length !== run.checkpoints.length || before.has_final !== run.has_final)) {
        void queryClient.invalidateQueries({ queryKey: queryKeys.models, exact: true });
      }
      return run;
    },
    refetchInterval: (query) => (query.state.data && isLive(query.state.data) ? RUNS_POLL_MS : false),
  });
}

/** The run's log, held in the query cache: each poll asks only for the steps after the last one held. */
export function useRunLog(name: string, live: boolean) {
  const queryClient = useQueryClient();
  return useQuery({
    queryKey: queryKeys.runLog(name),
    queryFn: async ({ signal }): Promise<RunLog> => {
      const held = queryClient.getQueryData<RunLog>(queryKeys.runLog(name)) ?? EMPTY_LOG;
      return mergeLog(held, await api.runLog(name, held.lastStep, signal));
    },
    refetchInterval: live ? RUNS_POLL_MS : false,
  });
}

export function useStartRun() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: RunCreate) => api.startRun(body),
    onSuccess: (run) => {
      queryClient.setQueryData(queryKeys.run(run.name), run);
      void queryClient.invalidateQueries({ queryKey: queryKeys.runs, exact: true });
    },
  });
}

/** Stop, save, sample, resume and delete: the answer replaces the run in the cache. */
export function useRunActions(name: string, onDeleted: () => void) {
  const queryClient = useQueryClient();
  const refresh = () => void queryClient.invalidateQueries({ queryKey: queryKeys.runs, exact: true });
  const action = useMutation({
    mutationFn: async (act: RunAction) => {
      const call = { stop: api.stopRun, save: api.saveRun, sample: api.sampleRun, resume: api.resumeRun,
        remove: api.deleteRun }[act];
      return call(name);
    },
    onSuccess: (run, act) => {
      if (act === 'remove') {
        onDeleted();
        queryClient.removeQueries({ queryKey: queryKeys.run(name) });
        void queryClient.invalidateQueries({ queryKey: queryKeys.models, exact: true });
      } else if (run) {
        // A resumed run logs again the steps after its checkpoint: the log is read again from the start.
        queryClient.setQueryData(queryKeys.run(name), run);
        if (act === 'resume') void queryClient.resetQueries({ queryKey: queryKeys.runLog(name) });
      }
      refresh();
    },
  });
  const prompts = useMutation({
    mutationFn: (list: string[]) => api.setValidationPrompts(name, list),
    onSuccess: (run) => queryClient.setQueryData(queryKeys.run(name), run),
  });
  return { action, prompts };
}

// Evaluating a run from its card: queue the evaluation, or cancel it; the answer replaces the run in the list.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from '../../api/endpoints';
import { queryKeys } from '../../api/queries';
import type { EvaluationCreate, RunPublic } from '../../api/types';

export function useEvaluation(name: string) {
  const queryClient = useQueryClient();
  const replace = (run: RunPublic) => {
    queryClient.setQueryData<RunPublic[]>(queryKeys.runs, (runs) => runs?.map((r) => (r.name === run.name ? run : r)));
    queryClient.setQueryData(queryKeys.run(run.name), run);
  };
  const refresh = () => void queryClient.invalidateQueries({ queryKey: queryKeys.runs, exact: true });
  const start = useMutation({
    mutationFn: (body: EvaluationCreate) => api.evaluateRun(name, body),
    onSuccess: (run) => { replace(run); refresh(); },
  });
  const cancel = useMutation({ mutationFn: (jobId: string) => api.cancelJob(jobId), onSuccess: refresh });
  return { start, cancel };
}

// Training in the studio: start a run on a dataset with a recipe, follow it live, stop, resume, delete it.
// The run shown and a preselected dataset live in the address (#/train?run=…, #/train?dataset=…).
import { useQuery } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { toApiError } from '../../api/http';
import { api } from '../../api/endpoints';
import { queryKeys, useRuns } from '../../api/queries';
import { ErrorNotice } from '../../components/ErrorNotice';
import { useSetSettingsOpen } from '../../state/dialogs';
import { useToast } from '../../state/toasts';
import { NewRunForm } from './NewRunForm';
import { RunDetail } from './RunDetail';
import { RunList } from './RunList';
import { useTrainSearch } from './search';
import { useRecipes, useStartRun } from './useTraining';

function NewRunPanel({ dataset, onStarted }: { dataset?: string; onStarted: (run: string) => void }) {
  const recipes = useRecipes();
  const datasets = useQuery({ queryKey: queryKeys.datasets, queryFn: ({ signal }) => api.datasets(signal) });
  const start = useStartRun();
  const toast = useToast();
  const error = recipes.error ?? datasets.error;
  return (
    <section className="panel new-run-panel" aria-labelledby="new-run-title">
      <h2 id="new-run-title" className="section-title">New run</h2>
      {error && <ErrorNotice error={toApiError(error)} onRetry={() => void recipes.refetch()} />}
      {recipes.data && datasets.data && (
        <>
          {datasets.data.length === 0 && (
            <p className="notice notice-warn">No dataset yet: add your photos on the{' '}
              <Link to="/datasets">Datasets page</Link> first.</p>
          )}
          <NewRunForm key={dataset ?? ''} datasets={datasets.data.map((d) => d.name)} recipes={recipes.data.recipes}
            defaultRecipe={recipes.data.default_recipe} fields={recipes.data.fields} initialDataset={dataset}
            onSubmit={async (body) => {
              const run = await start.mutateAsync(body);
              toast(`Run ${run.name} queued.`);
              onStarted(run.name);
            }} />
        </>
      )}
      {!error && (!recipes.data || !datasets.data) && <div className="skeleton run-detail-loading" aria-busy="true" />}
    </section>
  );
}

export function TrainPage() {
  const { run, dataset, showRun } = useTrainSearch();
  const runs = useRuns();
  const setSettingsOpen = useSetSettingsOpen();
  return (
    <div className="train-page">
      <div className="page-head">
        <h1 className="panel-title">Train</h1>
        <p className="muted">Teach the model your products: pick a dataset and a recipe, then watch it learn.</p>
      </div>
      <ErrorNotice error={runs.error && toApiError(runs.error)} onEnterKey={() => setSettingsOpen(true)} />
      <div className="train-layout">
        <aside className="runs-column" aria-labelledby="train-runs-title">
          <div className="column-head">
            <h2 id="train-runs-title" className="section-title">Runs</h2>
            <Link to="/train" search={{}} className="btn btn-small" aria-current={run ? undefined : 'page'}>
              New run</Link>
          </div>
          <RunList runs={runs.data ?? []} selected={run} />
        </aside>
        {run ? <RunDetail key={run} name={run} onDeleted={() => showRun(null)} />
          : <NewRunPanel dataset={dataset} onStarted={showRun} />}
      </div>
    </div>
  );
}

import { useMutation } from '@tanstack/react-query';
import { useBaseModel, useHelperModels, useModels, useNativeSize, useRunCaptions, useSamplers } from '../../api/queries';
import type { GenerateCreate } from '../../api/types';
import { ImagesIcon } from '../../components/Icons';
import { useSetSettingsOpen } from '../../state/dialogs';
import { useGenerateForm, useSetGenerateForm } from '../../state/generateForm';
import { useJobActions, useJobs } from '../../state/jobs';
import { useToast } from '../../state/toasts';
import { GenerateForm } from './GenerateForm';
import { JobCard } from './JobCard';
import { useModelFromAddress } from './search';

function FormPanel() {
  const form = useGenerateForm();
  const setForm = useSetGenerateForm();
  const { data: models = [] } = useModels();
  const baseModel = useBaseModel();
  const nativeSize = useNativeSize();
  const samplers = useSamplers();
  const { data: upscalers = [] } = useHelperModels('upscalers');
  // Whole captions of the selected run's training data make good starting prompts.
  const captions = useRunCaptions(form.model ? form.model.split('/')[0] : '');
  const setSettingsOpen = useSetSettingsOpen();
  const { startJob } = useJobActions();
  const toast = useToast();
  const start = useMutation({
    mutationFn: (body: GenerateCreate) => startJob(body, 'generate'),
    onSuccess: (_id, body) => toast(`Job queued: ${body.num_images} image${body.num_images === 1 ? '' : 's'}.`),
  });
  return (
    <section className="panel form-panel" aria-labelledby="generate-title">
      <h1 id="generate-title" className="panel-title">Create product photos</h1>
      <GenerateForm value={form} onChange={setForm} models={models} baseModel={baseModel} nativeSize={nativeSize} samplers={samplers} upscalers={upscalers}
        captions={captions} onSubmit={async (body) => { await start.mutateAsync(body); }}
        onEnterKey={() => setSettingsOpen(true)} />
    </section>
  );
}

function Results() {
  const jobs = useJobs();
  const list = jobs.order.map((id) => jobs.byId[id]).filter((job) => job.origin === 'generate');
  return (
    <section className="results-panel" aria-labelledby="results-title">
      <h2 id="results-title" className="section-title">Results</h2>
      {list.length === 0 ? (
        <div className="empty-state">
          <ImagesIcon className="empty-art" />
          <p><strong>No images yet.</strong></p>
          <p className="muted">Write a prompt, pick a model and press Generate. Progress and results appear here;
            everything is also saved to the Gallery.</p>
        </div>
      ) : (
        <div className="job-list">{list.map((job) => <JobCard key={job.id} job={job} />)}</div>
      )}
    </section>
  );
}

/** The form and the results are siblings: a job's progress does not re-render the form, nor typing the list. */
export function GeneratePage() {
  useModelFromAddress();
  return (
    <div className="generate-layout">
      <FormPanel />
      <Results />
    </div>
  );
}

import { useEffect, useState } from 'react';
import { api } from '../api/endpoints';
import type { GenerateCreate } from '../api/types';
import { ImagesIcon } from '../components/Icons';
import { GenerateForm } from './GenerateForm';
import { JobCard } from './JobCard';
import { useStudio } from '../state/studio';

export function GeneratePage() {
  const { form, setForm, models, baseModel, samplers, startJob, jobs, setSettingsOpen, toast, reportError,
    authVersion } = useStudio();
  const [captions, setCaptions] = useState<string[]>([]);
  const run = form.model ? form.model.split('/')[0] : '';

  // Whole captions of the selected run's training data make good starting prompts.
  useEffect(() => {
    setCaptions([]);
    if (!run) return;
    const controller = new AbortController();
    api.runCaptions(run, controller.signal).then(setCaptions, () => setCaptions([]));
    return () => controller.abort();
  }, [run, authVersion]);

  const submit = async (body: GenerateCreate) => {
    try {
      await startJob(body, 'generate');
      toast(`Job queued: ${body.num_images} image${body.num_images === 1 ? '' : 's'}.`);
    } catch (error) {
      reportError(error);
      throw error;
    }
  };

  const list = jobs.order.map((id) => jobs.byId[id]).filter((job) => job.origin === 'generate');
  return (
    <div className="generate-layout">
      <section className="panel form-panel" aria-labelledby="generate-title">
        <h1 id="generate-title" className="panel-title">Create product photos</h1>
        <GenerateForm value={form} onChange={setForm} models={models} baseModel={baseModel} samplers={samplers}
          captions={captions} onSubmit={submit} onEnterKey={() => setSettingsOpen(true)} />
      </section>
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
    </div>
  );
}

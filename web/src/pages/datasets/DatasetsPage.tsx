// Datasets: the product photos and captions training learns from. Upload them (a .zip, files or a folder) or
// register a folder on the server, read the check report, fix captions, then train.
import { toApiError } from '../../api/http';
import { ErrorNotice } from '../../components/ErrorNotice';
import { useSetSettingsOpen } from '../../state/dialogs';
import { useToast } from '../../state/toasts';
import { DatasetDetail } from './DatasetDetail';
import { DatasetList } from './DatasetList';
import { RegisterForm } from './RegisterForm';
import { UploadForm } from './UploadForm';
import { useDatasetsSearch } from './search';
import { useAddDataset, useDatasets } from './useDatasets';

function AddDataset({ onAdded }: { onAdded: (name: string) => void }) {
  const { upload, register } = useAddDataset();
  const toast = useToast();
  return (
    <section className="panel add-dataset" aria-labelledby="add-dataset-title">
      <h2 id="add-dataset-title" className="section-title">Add a dataset</h2>
      <UploadForm onUpload={async (form, options) => {
        const dataset = await upload.mutateAsync({ form, ...options });
        const refused = dataset.rejected?.length ?? 0;
        toast(`Dataset ${dataset.name} added: ${dataset.images} images${refused ? `, ${refused} file${refused === 1 ? '' : 's'} refused` : ''}.`);
        onAdded(dataset.name);
        return dataset;
      }} />
      <details className="register-panel">
        <summary>Or use a folder already on the server</summary>
        <RegisterForm onRegister={async (body) => {
          const dataset = await register.mutateAsync(body);
          toast(`Dataset ${dataset.name} registered: ${dataset.images} images.`);
          onAdded(dataset.name);
          return dataset;
        }} />
      </details>
    </section>
  );
}

export function DatasetsPage() {
  const { name, page, show } = useDatasetsSearch();
  const datasets = useDatasets();
  const setSettingsOpen = useSetSettingsOpen();
  return (
    <div className="datasets-page">
      <div className="page-head">
        <h1 className="panel-title">Datasets</h1>
        <p className="muted">Your product photos with their captions. Check them here before training.</p>
      </div>
      <ErrorNotice error={datasets.error && toApiError(datasets.error)} onEnterKey={() => setSettingsOpen(true)}
        onRetry={() => void datasets.refetch()} />
      <div className="train-layout">
        <aside className="runs-column" aria-labelledby="datasets-title">
          <div className="column-head">
            <h2 id="datasets-title" className="section-title">On this server</h2>
            {name && <button type="button" className="btn btn-small" onClick={() => show(null)}>Add dataset</button>}
          </div>
          <DatasetList datasets={datasets.data ?? []} selected={name} />
        </aside>
        {name ? <DatasetDetail key={name} name={name} page={page ?? 1} onPage={(p) => show(name, p)}
          onDeleted={() => show(null)} />
          : <AddDataset onAdded={(added) => show(added)} />}
      </div>
    </div>
  );
}

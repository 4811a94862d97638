// A new dataset from this computer: one .zip, many files, or a whole folder (each file sent with its path inside
// it), dropped on the zone or picked with the buttons, under a name. While it goes out, a bar shows the bytes sent
// and Cancel stops it (the server keeps nothing of a cut upload); then the server checks every file.
import { useRef, useState } from 'react';
import { toApiError, type UploadOptions, type UploadProgress } from '../../api/http';
import type { DatasetPublic } from '../../api/types';
import { Field } from '../../components/Field';
import { ProgressBar } from '../../components/Progress';
import { droppedFiles, formatBytes, pickedFrom, suggestedName, uploadForm, uploadStatus, type PickedFile }
  from './files';

const ACCEPT = '.zip,image/*,.txt,.json,.jsonl,.caption';
const NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$/;

export function UploadForm({ onUpload }: {
  onUpload: (form: FormData, options: UploadOptions) => Promise<DatasetPublic>;
}) {
  const [picked, setPicked] = useState<PickedFile[]>([]);
  const [name, setName] = useState('');
  const [over, setOver] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [cancelled, setCancelled] = useState(false);
  const [uploading, setUploading] = useState(false);
  const [progress, setProgress] = useState<UploadProgress | null>(null);
  const upload = useRef<AbortController | null>(null);

  const take = (files: File[], paths?: string[]) => {
    setPicked(pickedFrom(files, paths));
    setError(null);
    setCancelled(false);
    const suggested = suggestedName(files, paths ?? files.map((f) => f.webkitRelativePath || f.name));
    if (suggested && !name) setName(suggested);
  };
  const bytes = picked.reduce((sum, p) => sum + p.file.size, 0);

  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    if (!NAME.test(name)) return setError('Name the dataset: up to 64 letters, digits, dots, dashes or underscores.');
    if (!picked.length) return setError('Pick a .zip, some images with their captions, or a folder.');
    const controller = new AbortController();
    upload.current = controller;
    setUploading(true);
    setProgress(null);
    setError(null);
    setCancelled(false);
    try {
      await onUpload(uploadForm(name, picked), { signal: controller.signal, onProgress: setProgress });
      setPicked([]);
      setName('');
    } catch (failure) {
      const reason = toApiError(failure);
      if (reason.kind === 'aborted') setCancelled(true);
      else setError(reason.message);
    } finally {
      upload.current = null;
      setUploading(false);
      setProgress(null);
    }
  };
  const status = uploadStatus(progress, picked.length);

  return (
    <form className="upload-form" onSubmit={submit} noValidate aria-label="Upload a dataset">
      <div className={`drop-zone ${over ? 'over' : ''}`} data-testid="drop-zone"
        onDragOver={(e) => { e.preventDefault(); setOver(true); }} onDragLeave={() => setOver(false)}
        onDrop={(e) => {
          e.preventDefault();
          setOver(false);
          if (uploading) return; // what is being sent stays as it was picked
          void droppedFiles(e.dataTransfer).then(({ files, paths }) => take(files, paths));
        }}>
        <p><strong>Drop a .zip, images or a folder here</strong></p>
        <p className="muted small">Images (PNG, JPEG, WebP) with their captions: a captions.json, a metadata.jsonl, or
          a .txt beside each image.</p>
        <div className="drop-buttons">
          <label className="btn btn-small">Choose files…
            <input type="file" multiple accept={ACCEPT} className="visually-hidden" aria-label="Choose files"
              disabled={uploading} onChange={(e) => take([...(e.target.files ?? [])])} /></label>
          <label className="btn btn-small">Choose a folder…
            <input type="file" ref={(input) => { input?.setAttribute('webkitdirectory', ''); }} disabled={uploading}
              className="visually-hidden" aria-label="Choose a folder" onChange={(e) => take([...(e.target.files ?? [])])} />
          </label>
        </div>
        {picked.length > 0 && (
          <p className="small" data-testid="upload-picked">{picked.length} file{picked.length === 1 ? '' : 's'},
            {' '}{formatBytes(bytes)}{picked.length <= 3 ? `: ${picked.map((p) => p.path).join(', ')}` : ''}
            <button type="button" className="link-btn" disabled={uploading} onClick={() => setPicked([])}>Clear</button>
          </p>
        )}
      </div>
      <Field id="upload-name" label="Dataset name" hint="How the Training page lists it.">
        <input id="upload-name" type="text" value={name} onChange={(e) => setName(e.target.value)}
          placeholder="summer-sneakers" />
      </Field>
      {error && <p className="notice notice-error" role="alert">{error}</p>}
      {cancelled && <p className="notice notice-warn" role="status">Upload cancelled: the server kept none of it.</p>}
      {uploading && (
        <div className="upload-progress" data-testid="upload-progress">
          <ProgressBar value={status.value} max={status.max} label="Upload progress" />
          <div className="upload-progress-line">
            <span className="small" aria-live="polite">{status.text}</span>
            {!progress?.sentAll && <button type="button" className="btn btn-small"
              onClick={() => upload.current?.abort()}>Cancel upload</button>}
          </div>
        </div>
      )}
      <button type="submit" className="btn btn-primary" disabled={uploading}>
        {uploading ? 'Uploading…' : 'Upload dataset'}</button>
    </form>
  );
}

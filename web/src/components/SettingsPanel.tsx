// Connection settings: the API key (kept in this browser's localStorage) and what the server reports.
import { useEffect, useState } from 'react';
import { useHealth, useModels } from '../api/queries';
import { toApiError } from '../api/http';
import { useApiKey, useSaveApiKey } from '../state/apiKey';
import { useConnection } from '../state/connection';
import { useSetSettingsOpen, useSettingsOpen } from '../state/dialogs';
import { useToast } from '../state/toasts';
import { Modal } from './Modal';

/** Each time the server refuses the key while connecting, the panel opens to ask for it. */
function useOpenOnRefusedKey() {
  const setOpen = useSetSettingsOpen();
  const { error, errorUpdateCount } = useModels();
  const refused = error !== null && toApiError(error).kind === 'unauthorized';
  useEffect(() => {
    if (refused) setOpen(true);
  }, [refused, errorUpdateCount, setOpen]);
}

export function SettingsPanel() {
  useOpenOnRefusedKey();
  const open = useSettingsOpen();
  const setOpen = useSetSettingsOpen();
  const apiKey = useApiKey();
  const saveKey = useSaveApiKey();
  const { connection } = useConnection();
  const toast = useToast();
  const [draft, setDraft] = useState(apiKey);
  const [reveal, setReveal] = useState(false);
  const { data: health } = useHealth(open);

  useEffect(() => {
    if (open) setDraft(apiKey);
  }, [open, apiKey]);

  const close = () => setOpen(false);
  const save = (event: React.FormEvent) => {
    event.preventDefault();
    saveKey(draft);
    toast(draft.trim() ? 'API key saved in this browser.' : 'API key removed.');
    close();
  };

  return (
    <Modal open={open} onClose={close} labelledBy="settings-title" className="modal-small">
      <form onSubmit={save} className="settings-form">
        <div className="viewer-head">
          <h2 id="settings-title">Connection settings</h2>
          <button type="button" className="btn btn-ghost icon-btn" onClick={close} aria-label="Close settings">✕</button>
        </div>
        {connection === 'needs-key' && (
          <p className="notice notice-warn" role="status">
            This server requires an API key{apiKey ? ', and the saved one was refused' : ''}. Ask your administrator
            for the value of <code>SHOEGEN_API_KEY</code>.
          </p>
        )}
        <div className="field">
          <label htmlFor="api-key">API key</label>
          <div className="input-with-button">
            <input id="api-key" name="api-key" type={reveal ? 'text' : 'password'} autoComplete="off" spellCheck={false}
              value={draft} onChange={(e) => setDraft(e.target.value)} placeholder="Leave empty when the server has none"
              aria-describedby="api-key-hint" data-autofocus />
            <button type="button" className="btn btn-ghost" onClick={() => setReveal(!reveal)}
              aria-pressed={reveal}>{reveal ? 'Hide' : 'Show'}</button>
          </div>
          <p id="api-key-hint" className="field-hint">
            Sent as <code>Authorization: Bearer …</code> with every request; stored only in this browser.
          </p>
        </div>
        {health && health.device && (
          <dl className="meta-list compact" aria-label="Server status">
            <dt>Base model</dt><dd>{health.base_model}</dd>
            <dt>Device</dt><dd>{health.device}</dd>
            {health.queue && (<><dt>Queue</dt><dd>{String((health.queue as { depth?: number }).depth ?? 0)} waiting</dd></>)}
            {health.versions && (<><dt>Version</dt>
              <dd>shoegen {String((health.versions as Record<string, string>).shoegen ?? '?')}</dd></>)}
          </dl>
        )}
        <div className="modal-actions">
          {apiKey && (
            <button type="button" className="btn btn-ghost" onClick={() => { saveKey(''); setDraft(''); toast('API key removed.'); }}>
              Forget key
            </button>
          )}
          <button type="button" className="btn" onClick={close}>Cancel</button>
          <button type="submit" className="btn btn-primary">Save</button>
        </div>
      </form>
    </Modal>
  );
}

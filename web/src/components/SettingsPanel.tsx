// Connection settings: the API key (kept in this browser's localStorage) and what the server reports.
import { useEffect, useState } from 'react';
import { api } from '../api/endpoints';
import type { HealthPublic } from '../api/types';
import { useStudio } from '../state/studio';
import { Modal } from './Modal';

export function SettingsPanel() {
  const { settingsOpen, setSettingsOpen, apiKey, saveKey, connection, authVersion, toast } = useStudio();
  const [draft, setDraft] = useState(apiKey);
  const [reveal, setReveal] = useState(false);
  const [health, setHealth] = useState<HealthPublic | null>(null);

  useEffect(() => {
    if (!settingsOpen) return;
    setDraft(apiKey);
    let live = true;
    api.health().then((h) => live && setHealth(h), () => live && setHealth(null));
    return () => {
      live = false;
    };
  }, [settingsOpen, apiKey, authVersion]);

  const close = () => setSettingsOpen(false);
  const save = (event: React.FormEvent) => {
    event.preventDefault();
    saveKey(draft);
    toast(draft.trim() ? 'API key saved in this browser.' : 'API key removed.');
    close();
  };

  return (
    <Modal open={settingsOpen} onClose={close} labelledBy="settings-title" className="modal-small">
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

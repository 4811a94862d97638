// A dataset that is already on the server: a folder under the datasets root, registered by name.
import { useState } from 'react';
import { toApiError } from '../../api/http';
import type { DatasetPublic } from '../../api/types';
import { Field } from '../../components/Field';

export function RegisterForm({ onRegister }: { onRegister: (body: { name: string; path: string }) => Promise<DatasetPublic> }) {
  const [name, setName] = useState('');
  const [path, setPath] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await onRegister({ name: name.trim(), path: path.trim() });
      setName('');
      setPath('');
    } catch (failure) {
      setError(toApiError(failure).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="register-form" onSubmit={submit} noValidate aria-label="Register a server folder">
      <p className="muted small">Folders directly inside the server&apos;s datasets folder are listed by themselves;
        register a deeper one here. Nothing is copied.</p>
      <div className="grid-2">
        <Field id="register-name" label="Name in the studio">
          <input id="register-name" type="text" value={name} onChange={(e) => setName(e.target.value)} />
        </Field>
        <Field id="register-path" label="Folder on the server" hint="Relative to the datasets folder, e.g. catalogue/2024/train">
          <input id="register-path" type="text" value={path} onChange={(e) => setPath(e.target.value)} />
        </Field>
      </div>
      {error && <p className="notice notice-error" role="alert">{error}</p>}
      <button type="submit" className="btn" disabled={busy || !name.trim() || !path.trim()}>
        {busy ? 'Registering…' : 'Register folder'}</button>
    </form>
  );
}

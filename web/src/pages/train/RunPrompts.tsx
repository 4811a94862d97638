// A run's validation prompts, editable while it trains: the next validation step draws the saved ones.
import { useState } from 'react';
import { cleanPrompts, PromptList } from './PromptList';

export function RunPrompts({ prompts, onSave, saving }: {
  prompts: string[];
  onSave: (prompts: string[]) => Promise<unknown>;
  saving: boolean;
}) {
  const [draft, setDraft] = useState<string[] | null>(null); // null: as the server has them
  const shown = draft ?? prompts;
  const dirty = draft !== null && JSON.stringify(cleanPrompts(draft)) !== JSON.stringify(prompts);
  return (
    <div className="run-prompts">
      <PromptList id="run-detail-prompts" prompts={shown} onChange={setDraft} />
      <div className="row-actions">
        <button type="button" className="btn btn-small btn-primary" disabled={!dirty || saving || !cleanPrompts(shown).length}
          title={cleanPrompts(shown).length ? undefined : 'A run needs one prompt at least'}
          onClick={() => void onSave(cleanPrompts(shown)).then(() => setDraft(null), () => undefined)}>
          {saving ? 'Saving…' : 'Save prompts'}</button>
        {draft !== null && <button type="button" className="btn btn-small btn-ghost"
          onClick={() => setDraft(null)}>Discard changes</button>}
      </div>
    </div>
  );
}

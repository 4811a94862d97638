// Suggestions under the prompt: the catalogue caption template, phrases to add, and the selected run's own
// training captions as whole prompts.
import { useState } from 'react';
import { appendPhrase } from '../../lib/form';
import { PRESET_GROUPS, PROMPT_TEMPLATE } from '../../lib/presets';

export function PromptIdeas({ prompt, captions, onPrompt }: {
  prompt: string;
  captions: string[];
  onPrompt: (prompt: string) => void;
}) {
  const [showAllCaptions, setShowAllCaptions] = useState(false);
  // Suggestions start open where there is room for them, folded on phones.
  const [open, setOpen] = useState(() => globalThis.matchMedia?.('(max-width: 640px)').matches !== true);
  const shownCaptions = showAllCaptions ? captions : captions.slice(0, 4);
  return (
    <details className="suggestions" open={open}
      onToggle={(e) => setOpen((e.currentTarget as HTMLDetailsElement).open)}>
      <summary>Prompt ideas</summary>
      <div className="chip-groups">
        <div className="chip-group">
          <span className="chip-label">Start</span>
          <div className="chip-list">
            <button type="button" className="chip" onClick={() => onPrompt(PROMPT_TEMPLATE)}
              aria-label="Use the catalogue caption template as the prompt">Catalogue template</button>
          </div>
        </div>
        {PRESET_GROUPS.map((group) => (
          <div className="chip-group" key={group.label} role="group" aria-label={`${group.label} suggestions`}>
            <span className="chip-label">{group.label}</span>
            <div className="chip-list">
              {group.phrases.map((phrase) => (
                <button type="button" key={phrase} className="chip" aria-label={`Add “${phrase}” to the prompt`}
                  onClick={() => onPrompt(appendPhrase(prompt, phrase))}>{phrase}</button>
              ))}
            </div>
          </div>
        ))}
        {captions.length > 0 && (
          <div className="chip-group captions" role="group" aria-label="Captions from the training data">
            <span className="chip-label">From the training data</span>
            <div className="chip-list">
              {shownCaptions.map((caption) => (
                <button type="button" key={caption} className="chip chip-caption" title={caption}
                  aria-label={`Use training caption: ${caption}`} onClick={() => onPrompt(caption)}>
                  {caption}
                </button>
              ))}
              {captions.length > 4 && (
                <button type="button" className="chip chip-more" onClick={() => setShowAllCaptions(!showAllCaptions)}>
                  {showAllCaptions ? 'Show fewer' : `Show ${captions.length - 4} more`}
                </button>
              )}
            </div>
          </div>
        )}
      </div>
    </details>
  );
}

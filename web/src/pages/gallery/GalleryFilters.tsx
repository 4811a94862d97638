// Search by prompt, filter by model, date and marketplace preset, order by date or score. The values are the
// URL's; the search box keeps what is being typed and writes it to the URL once typing pauses.
import { useEffect, useState } from 'react';
import { useBaseModel, useGalleryModels, usePresets } from '../../api/queries';
import { modelLabel } from '../../lib/models';
import { filtersActive, type GallerySearch } from './search';
import type { UpdateSearch } from './useGallery';

function useDebounced<T>(value: T, ms: number): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return debounced;
}

function SearchBox({ q, onSearch }: { q: string; onSearch: (q: string) => void }) {
  const [text, setText] = useState(q);
  const typed = useDebounced(text.trim(), 300);
  useEffect(() => {
    if (typed !== q) onSearch(typed);
  }, [typed]); // only what is typed goes to the URL, not the URL's own changes
  useEffect(() => {
    if (q !== text.trim()) setText(q); // the URL changed (back button, "Clear filters")
  }, [q]); // only the URL's changes come back into the box, not each keystroke
  return (
    <div className="field grow">
      <label htmlFor="gallery-search">Search prompts</label>
      <input id="gallery-search" type="search" value={text} placeholder="e.g. brown suede loafers"
        onChange={(e) => setText(e.target.value)} />
    </div>
  );
}

/** Which images pass a marketplace preset, and the order: newest or best catalogue score first. */
function ScoreFilters({ search, update }: { search: GallerySearch; update: UpdateSearch }) {
  const presets = usePresets();
  const passes = search.passes ?? '';
  const names = presets.map((p) => p.name);
  return (
    <>
      <div className="field">
        <label htmlFor="gallery-passes">Passes</label>
        <select id="gallery-passes" value={passes} onChange={(e) => update({ passes: e.target.value || undefined })}>
          <option value="">Any</option>
          {presets.map((p) => <option key={p.name} value={p.name} title={p.description}>{p.name}</option>)}
          {passes && !names.includes(passes) && <option value={passes}>{passes}</option>}
        </select>
      </div>
      <div className="field">
        <label htmlFor="gallery-sort">Sort</label>
        <select id="gallery-sort" value={search.sort ?? 'newest'}
          onChange={(e) => update({ sort: e.target.value === 'score' ? 'score' : undefined })}>
          <option value="newest">Newest</option>
          <option value="score">Best score</option>
        </select>
      </div>
    </>
  );
}

export function GalleryFilters({ search, update }: { search: GallerySearch; update: UpdateSearch }) {
  const models = useGalleryModels();
  const baseModel = useBaseModel();
  const model = search.model ?? '';
  const options = model && !models.includes(model) ? [...models, model] : models;
  const active = filtersActive(search);
  return (
    <form className="filters" role="search" aria-label="Filter the gallery" onSubmit={(e) => e.preventDefault()}>
      {/* Typing replaces the URL's entry rather than adding one per pause; the other filters add one each. */}
      <SearchBox q={search.q ?? ''} onSearch={(q) => update({ q: q || undefined }, { replace: true })} />
      <div className="field">
        <label htmlFor="gallery-model">Model</label>
        <select id="gallery-model" value={model} onChange={(e) => update({ model: e.target.value || undefined })}>
          <option value="">All models</option>
          {options.map((m) => <option key={m} value={m}>{modelLabel(m, baseModel)}</option>)}
        </select>
      </div>
      <div className="field">
        <label htmlFor="gallery-after">From</label>
        <input id="gallery-after" type="date" value={search.from ?? ''}
          onChange={(e) => update({ from: e.target.value || undefined })} />
      </div>
      <div className="field">
        <label htmlFor="gallery-before">To</label>
        <input id="gallery-before" type="date" value={search.to ?? ''}
          onChange={(e) => update({ to: e.target.value || undefined })} />
      </div>
      <ScoreFilters search={search} update={update} />
      {active && (
        <button type="button" className="btn btn-ghost"
          onClick={() => update({ q: undefined, model: undefined, from: undefined, to: undefined, passes: undefined })}>
          Clear filters</button>
      )}
    </form>
  );
}

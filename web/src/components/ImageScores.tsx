// An image's catalogue scores: a 0-100 badge for the gallery's cards, and the viewer's list of every score with
// each marketplace preset's verdict and, when it fails, the rules it breaks in the server's own words.
import { usePresets } from '../api/queries';
import type { CatalogueScores } from '../api/types';

const percent = (share: number) => `${Math.round(share * 100)}%`;

/** The composite score out of 100: good (70 and up), fair (40 and up) or poor. */
export function ScoreBadge({ scores }: { scores?: CatalogueScores | null }) {
  if (!scores) return null;
  const value = Math.round(scores.score * 100);
  const band = value >= 70 ? 'good' : value >= 40 ? 'fair' : 'poor';
  const passed = Object.entries(scores.rule_failures ?? {}).filter(([, failures]) => failures.length === 0)
    .map(([preset]) => preset);
  const title = `Catalogue score ${value} of 100${passed.length ? `; passes ${passed.join(', ')}` : ''}`;
  return (
    <span className={`badge score-badge score-${band}`} title={title} aria-label={title} data-testid="score-badge">
      {value}
    </span>
  );
}

function PresetVerdicts({ failures }: { failures: Record<string, string[]> }) {
  const presets = usePresets();
  const describe = (name: string) => presets.find((p) => p.name === name)?.description;
  return (
    <ul className="preset-verdicts" aria-label="Marketplace presets">
      {Object.entries(failures).map(([preset, broken]) => (
        <li key={preset} data-testid={`preset-${preset}`}>
          <span className={`badge ${broken.length ? 'badge-error' : 'badge-done'}`} title={describe(preset)}>
            {preset}: {broken.length ? 'fails' : 'passes'}
          </span>
          {broken.length > 0 && <ul className="broken-rules">{broken.map((rule) => <li key={rule}>{rule}</li>)}</ul>}
        </li>
      ))}
    </ul>
  );
}

/** Every catalogue score of one image, for the image viewer. */
export function ImageScores({ scores }: { scores?: CatalogueScores | null }) {
  if (!scores) {
    return (
      <section className="image-scores" aria-label="Catalogue scores">
        <h3 className="image-scores-title">Catalogue scores</h3>
        <p className="muted">Not scored: stored before scoring existed (<code>shoegen gallery rescore</code> adds
          them).</p>
      </section>
    );
  }
  return (
    <section className="image-scores" aria-label="Catalogue scores" data-testid="image-scores">
      <h3 className="image-scores-title">Catalogue scores <ScoreBadge scores={scores} /></h3>
      {scores.product_found ? (
        <dl className="meta-list compact">
          <dt>Background</dt><dd>{percent(scores.background)} white</dd>
          <dt>Fill</dt><dd>{percent(scores.fill)} of the frame
            {scores.fill_range && ` (training photos ${percent(scores.fill_range[0])}–${percent(scores.fill_range[1])})`}</dd>
          <dt>Off centre</dt><dd>{percent(scores.offset)} of the frame</dd>
          <dt>Cut off</dt><dd>{scores.cut_off ? 'yes, touches the edge' : 'no'}</dd>
          {scores.colour && scores.colour_distance !== null && scores.colour_distance !== undefined && (<>
            <dt>Colour</dt><dd>{scores.colour}: {scores.colour_distance.toFixed(1)} ΔE from it (lower is truer)</dd></>)}
          <dt>Sharpness</dt><dd>{scores.sharpness.toFixed(1)}
            {scores.sharpness_ratio !== null && scores.sharpness_ratio !== undefined
              && ` (${percent(scores.sharpness_ratio)} of the training photos)`}</dd>
        </dl>
      ) : <p className="muted">No product stands out from the background.</p>}
      <PresetVerdicts failures={scores.rule_failures ?? {}} />
    </section>
  );
}

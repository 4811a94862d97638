// The original and the result: side by side, or one over the other with a slider between them.
import { useState } from 'react';
import type { GalleryImagePublic } from '../../api/types';
import { ApiImage } from '../../components/ApiImage';

export function CompareView({ original, result }: { original: string; result: GalleryImagePublic }) {
  const [view, setView] = useState<'side' | 'slider'>('side');
  const [position, setPosition] = useState(50);
  return (
    <div className="compare-view">
      <div className="choice-row" role="radiogroup" aria-label="Comparison view">
        {(['side', 'slider'] as const).map((option) => (
          <label key={option} className={`radio chip-radio ${view === option ? 'on' : ''}`}>
            <input type="radio" name="compare-view" checked={view === option} onChange={() => setView(option)} />
            {option === 'side' ? ' Side by side' : ' Slider'}
          </label>
        ))}
      </div>
      {view === 'side' ? (
        <div className="side-by-side">
          <figure data-testid="compare-original">
            <div className="img-box loaded compare-original" style={{ aspectRatio: `${result.width} / ${result.height}` }}>
              <img src={original} alt="The original photo" /></div>
            <figcaption>Original</figcaption>
          </figure>
          <figure data-testid="compare-result">
            <ApiImage src={result.image_url} alt={`Result: ${result.prompt}`} width={result.width} height={result.height}
              eager />
            <figcaption>Result · {result.width} × {result.height} px</figcaption>
          </figure>
        </div>
      ) : (
        <div className="compare-slider" data-testid="compare-slider">
          <ApiImage src={result.image_url} alt={`Result: ${result.prompt}`} width={result.width} height={result.height}
            eager />
          <img src={original} alt="The original photo" className="compare-over"
            style={{ clipPath: `inset(0 ${100 - position}% 0 0)` }} />
          <input type="range" min={0} max={100} value={position} aria-label="Original ◀ ▶ result"
            onChange={(e) => setPosition(Number(e.target.value))} />
        </div>
      )}
    </div>
  );
}

// A labelled form control with its hint and error, wired for screen readers.
import type { ReactNode } from 'react';

export function describedBy(id: string, error?: string, hint?: string): string | undefined {
  // The hint is hidden while an error is shown (see Field), so only one of them is referenced.
  if (error) return `${id}-error`;
  return hint ? `${id}-hint` : undefined;
}

export function Field({ id, label, hint, error, children, className }: {
  id: string;
  label: ReactNode;
  hint?: string;
  error?: string;
  children: ReactNode;
  className?: string;
}) {
  return (
    <div className={`field ${error ? 'has-error' : ''} ${className ?? ''}`}>
      <label htmlFor={id}>{label}</label>
      {children}
      {hint && !error && <p id={`${id}-hint`} className="field-hint">{hint}</p>}
      {error && <p id={`${id}-error`} className="field-error">{error}</p>}
    </div>
  );
}

/** A number set with a slider and a number box that stay in step. */
export function RangeField({ id, label, value, onChange, min, max, step, error, hint }: {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  min: number;
  max: number;
  step: number;
  error?: string;
  hint?: string;
}) {
  const numeric = Number(value);
  const sliderValue = Number.isFinite(numeric) ? Math.min(max, Math.max(min, numeric)) : min;
  return (
    <div className={`field range-field ${error ? 'has-error' : ''}`}>
      <label htmlFor={id}>{label}</label>
      <div className="range-row">
        <input type="range" id={`${id}-slider`} aria-label={`${label} slider`} min={min} max={max} step={step}
          value={sliderValue} onChange={(e) => onChange(e.target.value)} />
        <input type="number" id={id} className="range-number" min={min} max={max} step={step} value={value}
          inputMode="decimal" aria-invalid={error ? true : undefined} aria-describedby={describedBy(id, error, hint)}
          onChange={(e) => onChange(e.target.value)} />
      </div>
      {hint && !error && <p id={`${id}-hint`} className="field-hint">{hint}</p>}
      {error && <p id={`${id}-error`} className="field-error">{error}</p>}
    </div>
  );
}

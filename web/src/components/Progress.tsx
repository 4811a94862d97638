export function ProgressBar({ value, max, label }: { value: number; max: number; label: string }) {
  const percent = max > 0 ? Math.round((100 * Math.min(value, max)) / max) : 0;
  return (
    <div className="progress" role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={max || 100}
      aria-valuenow={max > 0 ? Math.min(value, max) : undefined} aria-valuetext={max > 0 ? `${percent}%` : 'waiting'}>
      <div className={`progress-fill ${max > 0 ? '' : 'indeterminate'}`} style={{ width: max > 0 ? `${percent}%` : undefined }} />
    </div>
  );
}

// A run's loss by step, drawn in the browser (recharts, SVG) from the log records held in the query cache:
// the training loss, and the validation and prior losses when the run logs them.
import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { LogRecord } from '../../api/types';
import { LOSS_SERIES, seriesWithValues } from './log';
import { formatNumber } from './status';

export function LossChart({ records, maxSteps, runName }: { records: LogRecord[]; maxSteps: number | null;
  runName: string }) {
  const shown = LOSS_SERIES.filter((s) => seriesWithValues(records).includes(s.key));
  if (!records.length) {
    return <p className="muted small figure-empty" data-testid="loss-chart-empty">The loss appears here once the
      first steps are logged.</p>;
  }
  return (
    <div className="loss-chart" data-testid="loss-chart" data-points={records.length} role="figure"
      aria-label={`Loss of ${runName} by step`}>
      <ResponsiveContainer width="100%" height={220} initialDimension={{ width: 480, height: 220 }}>
        <LineChart data={records} margin={{ top: 10, right: 16, bottom: 4, left: 0 }}>
          <CartesianGrid stroke="#e2e5ea" strokeDasharray="3 3" />
          <XAxis dataKey="step" type="number" domain={[0, maxSteps || 'dataMax']} fontSize={11} height={34}
            label={{ value: 'step', position: 'insideBottomRight', offset: -2, fontSize: 11 }} />
          <YAxis fontSize={11} width={48} tickFormatter={(v: number) => formatNumber(v)} domain={['auto', 'auto']} />
          <Tooltip formatter={(value) => formatNumber(Number(value))} labelFormatter={(step) => `step ${step}`} />
          {shown.map((s) => (
            <Line key={s.key} dataKey={s.key} name={s.label} stroke={s.colour} connectNulls isAnimationActive={false}
              strokeWidth={s.key === 'loss' ? 1.5 : 2} dot={s.key === 'loss' ? false : { r: 3 }} />
          ))}
        </LineChart>
      </ResponsiveContainer>
      <p className="score-legend small">
        {shown.map((s) => <span key={s.key} className="legend-line" style={{ ['--line' as string]: s.colour }}>
          {s.label}</span>)}
      </p>
    </div>
  );
}

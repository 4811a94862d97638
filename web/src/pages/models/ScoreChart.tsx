// The score-versus-step chart of one run, drawn in the browser (recharts, SVG): the catalogue score in bold, the
// chosen metric on its own axis, the best checkpoint marked, a tooltip per step with the model and its values.
import {
  CartesianGrid, Line, LineChart, ReferenceDot, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis,
  type TooltipContentProps,
} from 'recharts';
import { formatScore, MAIN_METRIC, metricLabel, type BestCheckpoint, type ScoreRow } from './scores';

const MAIN_COLOUR = '#4f46e5';
const OTHER_COLOUR = '#d97706';
const BEST_COLOUR = '#1a7f4b';

function valueOf(metric: string) {
  return (row: ScoreRow) => row.metrics[metric] ?? null;
}

function ScoreTooltip({ active, payload, metric }: TooltipContentProps & { metric: string }) {
  const row = payload?.[0]?.payload as ScoreRow | undefined;
  if (!active || !row) return null;
  const shown = metric === MAIN_METRIC ? [MAIN_METRIC] : [MAIN_METRIC, metric];
  return (
    <div className="score-tooltip" data-testid="score-tooltip">
      <p className="mono">{row.model}</p>
      <p className="muted">step {row.step}{row.step === 0 ? ' (base, no adapter)' : ''} · {row.images} images</p>
      {shown.map((m) => <p key={m}>{metricLabel(m)}: <strong>{formatScore(row.metrics[m])}</strong></p>)}
    </div>
  );
}

export function ScoreChart({ rows, metric, best, runName }: { rows: ScoreRow[]; metric: string;
  best: BestCheckpoint | null; runName: string }) {
  const other = metric === MAIN_METRIC ? null : metric;
  const bestRow = best ? rows.find((row) => row.step === best.step) : undefined;
  const bestValue = bestRow?.metrics[MAIN_METRIC];
  const steps = rows.map((row) => row.step);
  return (
    <div className="score-chart" data-testid="score-chart" data-metric={metric} role="figure"
      aria-label={`${metricLabel(MAIN_METRIC)}${other ? ` and ${metricLabel(other)}` : ''} of ${runName} by step`}>
      <ResponsiveContainer width="100%" height={220} initialDimension={{ width: 480, height: 220 }}>
        <LineChart data={rows} margin={{ top: 18, right: other ? 4 : 16, bottom: 4, left: 0 }}>
          <CartesianGrid stroke="#e2e5ea" strokeDasharray="3 3" />
          <XAxis dataKey="step" type="number" domain={['dataMin', 'dataMax']} ticks={steps} fontSize={11}
            label={{ value: 'step (0 = base)', position: 'insideBottomRight', offset: -2, fontSize: 11 }} height={34} />
          <YAxis yAxisId="main" fontSize={11} width={40} tickFormatter={(v: number) => formatScore(v)}
            stroke={MAIN_COLOUR} />
          {other && (
            <YAxis yAxisId="other" orientation="right" fontSize={11} width={40} stroke={OTHER_COLOUR}
              tickFormatter={(v: number) => formatScore(v)} />
          )}
          <Tooltip content={(props) => <ScoreTooltip {...props} metric={metric} />} />
          {best && (
            <ReferenceLine yAxisId="main" x={best.step} stroke={BEST_COLOUR} strokeDasharray="4 3"
              label={{ value: 'best', position: 'top', fill: BEST_COLOUR, fontSize: 11, fontWeight: 600 }}
              className="best-line" />
          )}
          <Line yAxisId="main" dataKey={valueOf(MAIN_METRIC)} name={metricLabel(MAIN_METRIC)} stroke={MAIN_COLOUR}
            strokeWidth={3} dot={{ r: 3.5, className: 'score-dot score-dot-main' }} connectNulls
            isAnimationActive={false} />
          {other && (
            <Line yAxisId="other" dataKey={valueOf(other)} name={metricLabel(other)} stroke={OTHER_COLOUR}
              strokeWidth={1.5} dot={{ r: 3, className: 'score-dot score-dot-other' }} connectNulls
              isAnimationActive={false} />
          )}
          {best && typeof bestValue === 'number' && (
            <ReferenceDot yAxisId="main" x={best.step} y={bestValue} r={7} fill="none" stroke={BEST_COLOUR}
              strokeWidth={2.5} className="best-dot" />
          )}
        </LineChart>
      </ResponsiveContainer>
      <p className="score-legend small">
        <span className="legend-main">{metricLabel(MAIN_METRIC)}</span>
        {other && <span className="legend-other">{metricLabel(other)} (right axis)</span>}
      </p>
    </div>
  );
}

// An hourly series drawn with uPlot. The canvas is described by its aria-label and a visually
// hidden table, so screen readers get the numbers too.
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface Series {
  label: string;
  values: number[];
  color: string;
}

interface Props {
  title: string;
  times: number[]; // seconds since the epoch, one per bucket
  series: Series[];
  format: (value: number) => string;
  /// Counts: ticks only on whole numbers.
  integer?: boolean;
  height?: number;
}

const INTEGER_INCREMENTS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 1e6, 1e7, 1e8];

export function TimeChart({ title, times, series, format, integer = false, height = 180 }: Props) {
  const holder = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = holder.current;
    if (!element) return undefined;
    const width = Math.max(240, element.clientWidth || 480);
    const bars = uPlot.paths.bars;
    const plot = new uPlot(
      {
        width,
        height,
        legend: { show: false },
        cursor: { show: true, drag: { x: false, y: false } },
        scales: { x: { time: true } },
        axes: [
          { stroke: '#444', grid: { stroke: '#e4e4e4' } },
          {
            stroke: '#444',
            grid: { stroke: '#e4e4e4' },
            values: (_u, ticks) => ticks.map(format),
            size: 64,
            ...(integer ? { incrs: INTEGER_INCREMENTS } : {}),
          },
        ],
        series: [
          {},
          ...series.map((s) => ({
            label: s.label,
            stroke: s.color,
            fill: `${s.color}33`,
            width: 2,
            ...(bars ? { paths: bars({ size: [0.8, 40] }) } : {}),
            points: { show: false },
          })),
        ],
      },
      [times, ...series.map((s) => s.values)],
      element,
    );
    return () => plot.destroy();
  }, [times, series, format, integer, height]);

  const total = series.map((s) => s.values.reduce((sum, v) => sum + v, 0));
  const summary = series.map((s, i) => `${s.label}: ${format(total[i] ?? 0)}`).join(', ');
  return (
    <figure className="chart">
      <figcaption>
        <span className="chart-title">{title}</span>
        <span className="chart-summary">{summary}</span>
      </figcaption>
      <div ref={holder} role="img" aria-label={`${title} per hour. Total ${summary}`} />
      <table className="visually-hidden">
        <caption>{title} per hour</caption>
        <thead>
          <tr>
            <th scope="col">Hour</th>
            {series.map((s) => (
              <th scope="col" key={s.label}>{s.label}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {times.map((t, row) => (
            <tr key={t}>
              <th scope="row">{new Date(t * 1000).toISOString()}</th>
              {series.map((s) => (
                <td key={s.label}>{format(s.values[row] ?? 0)}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}

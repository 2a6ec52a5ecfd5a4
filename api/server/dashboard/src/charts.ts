// ECharts, with only the parts the dashboard draws (the bundle stays small), rendered
// as SVG (sharp on every screen, and the aria component describes each chart).
import * as echarts from 'echarts/core';
import { BarChart, LineChart, PieChart, ScatterChart } from 'echarts/charts';
import {
  AriaComponent,
  DataZoomComponent,
  GridComponent,
  LegendComponent,
  MarkAreaComponent,
  MarkPointComponent,
  TooltipComponent,
} from 'echarts/components';
import { SVGRenderer } from 'echarts/renderers';

echarts.use([
  BarChart,
  LineChart,
  PieChart,
  ScatterChart,
  AriaComponent,
  DataZoomComponent,
  GridComponent,
  LegendComponent,
  MarkAreaComponent,
  MarkPointComponent,
  TooltipComponent,
  SVGRenderer,
]);

export type Chart = echarts.ECharts;
export type Option = echarts.EChartsCoreOption;

export const GENDER_COLORS: Record<string, string> = {
  FEMALE: '#c2185b',
  MALE: '#1565c0',
  OTHER: '#6a1b9a',
  UNKNOWN: '#78909c',
};
export const GHOST = '#9e9e9e';
export const ACCENT = '#00796b';

const charts = new Map<HTMLElement, Chart>();

/** The chart drawn in `el`, made on first use and resized with its box. */
export function chartIn(el: HTMLElement): Chart {
  let chart = charts.get(el);
  if (!chart) {
    chart = echarts.init(el, null, { renderer: 'svg' });
    const made = chart;
    new ResizeObserver(() => made.resize()).observe(el);
    charts.set(el, made);
  }
  return chart;
}

/** Draws `option` in `el`, replacing what was there; `description` is what screen
 * readers hear for the chart (the data table under it has every figure). */
export function draw(el: HTMLElement, option: Option, description: string): Chart {
  const chart = chartIn(el);
  el.setAttribute('aria-label', description);
  chart.setOption(
    {
      aria: { enabled: true, label: { description } },
      animation: false,
      textStyle: { fontFamily: 'inherit' },
      ...option,
    },
    { notMerge: true },
  );
  return chart;
}

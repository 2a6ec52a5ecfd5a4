// The registrations panels: totals with the comparison, the timeline by gender with its
// peak and the earlier period as a ghost, the gender pie, age bars and geography tabs.
import { ACCENT, GENDER_COLORS, GHOST, draw } from './charts';
import { bucketLabel, change, int, localTime, pct } from './format';
import { el, panel, tile, type Panel } from './panel';
import type { GeoShare, Registrations } from './types';

export type GeoLevel = 'country' | 'state' | 'city';
const LEVELS: [GeoLevel, string][] = [
  ['country', 'Country'],
  ['state', 'State'],
  ['city', 'City'],
];
const GENDERS = ['FEMALE', 'MALE', 'OTHER', 'UNKNOWN'] as const;
const SHIFT_NAMES: Record<string, string> = { PREVIOUS_PERIOD: 'previous period', PREVIOUS_YEAR: 'previous year' };

export class RegistrationPanels {
  private readonly totals: Panel;
  private readonly timeline: Panel;
  private readonly gender: Panel;
  private readonly age: Panel;
  private readonly geo: Panel;
  private level: GeoLevel = 'country';
  private last: Registrations | null = null;
  private selectedGender: string | null = null;

  constructor(root: HTMLElement) {
    this.totals = panel(root, 'registrations-total', 'Registrations', { chart: false, wide: true });
    this.timeline = panel(root, 'timeline', 'Registrations by gender', { wide: true });
    this.gender = panel(root, 'gender', 'Gender');
    this.age = panel(root, 'age', 'Age at registration');
    this.geo = panel(root, 'geography', 'Geography', { wide: true });
    this.geoTabs();
    this.gender.note.setAttribute('aria-live', 'polite');
  }

  render(data: Registrations, granularity: string, shift: string | null): void {
    this.last = data;
    this.renderTotals(data, shift);
    this.renderTimeline(data, granularity, shift);
    this.renderGender(data);
    this.renderAge(data);
    this.renderGeo(data);
  }

  private renderTotals(data: Registrations, shift: string | null): void {
    const c = data.change;
    const sub = shift
      ? `${change(c.percentage)} vs ${SHIFT_NAMES[shift]} (${int(c.previousTotal)})`
      : `${data.period.from.slice(0, 10)} to ${data.period.to.slice(0, 10)}`;
    const total = tile('Total registrations', int(data.total), data.total, sub, 'total-registrations');
    if (shift) {
      total.dataset.previous = String(c.previousTotal);
      total.dataset.change = c.percentage === null ? '' : String(c.percentage);
    }
    const peak = data.timeline.peak;
    const peakTile = tile('Peak bucket', peak ? int(peak.total) : '—', peak ? peak.total : null, peak ? `starting ${localTime(peak.start)}` : 'no registrations', 'peak-bucket');
    if (peak) peakTile.dataset.start = peak.start;
    this.totals.body.replaceChildren(el('div', { class: 'tiles' }, total, peakTile));
    this.totals.setRows({
      header: ['from', 'to', 'timeZone', 'total', 'previousTotal', 'changePercentage'],
      rows: [[data.period.from, data.period.to, data.period.timeZone, data.total, c.previousTotal, c.percentage]],
    });
  }

  private renderTimeline(data: Registrations, granularity: string, shift: string | null): void {
    const buckets = data.timeline.buckets;
    const labels = buckets.map((b) => bucketLabel(b.start, granularity));
    const peak = data.timeline.peak;
    const peakIndex = peak ? buckets.findIndex((b) => b.start === peak.start) : -1;
    const previous = data.previous.timeline.buckets;
    const series: object[] = GENDERS.map((g) => ({
      name: g,
      type: 'bar',
      stack: 'total',
      itemStyle: { color: GENDER_COLORS[g] },
      emphasis: { focus: 'series' },
      data: buckets.map((b) => b.byGender?.find((x) => x.gender === g)?.count ?? 0),
    }));
    if (peakIndex >= 0) {
      Object.assign(series[0] as object, {
        markArea: {
          silent: true,
          itemStyle: { color: 'rgba(255, 193, 7, 0.25)' },
          label: { show: true, position: 'top', formatter: `Peak ${int(peak!.total)}` },
          data: [[{ xAxis: labels[peakIndex] }, { xAxis: labels[peakIndex] }]],
        },
      });
    }
    if (shift) {
      series.push({
        name: `Total, ${SHIFT_NAMES[shift]}`,
        type: 'line',
        symbol: 'none',
        lineStyle: { type: 'dashed', color: GHOST, width: 2 },
        itemStyle: { color: GHOST },
        data: labels.map((_, i) => previous[i]?.total ?? null),
      });
    }
    const peakText = peak ? `peak ${int(peak.total)} at ${labels[peakIndex]}` : 'no peak';
    draw(
      this.timeline.chart,
      {
        tooltip: {
          trigger: 'axis',
          formatter: (items: { seriesName: string; value: number | null; dataIndex: number; marker: string }[]) => {
            const i = items[0]?.dataIndex ?? 0;
            const lines = items.map((p) => {
              const when = p.seriesName.startsWith('Total,') && previous[i] ? ` (${previous[i].start.slice(0, 16)})` : '';
              return `${p.marker}${p.seriesName}${when}: ${p.value === null ? '—' : int(p.value)}`;
            });
            return [`<b>${buckets[i]?.start.slice(0, 16) ?? ''}</b> total ${int(buckets[i]?.total ?? 0)}`, ...lines].join('<br>');
          },
        },
        legend: { top: 0 },
        grid: { left: 48, right: 16, top: 48, bottom: 56 },
        dataZoom: buckets.length > 60 ? [{ type: 'inside' }, { type: 'slider', height: 18, bottom: 8 }] : [],
        xAxis: { type: 'category', data: labels },
        yAxis: { type: 'value', minInterval: 1 },
        series,
      },
      `Registrations per ${granularity.toLowerCase()} by gender, ${buckets.length} buckets, total ${data.total}, ${peakText}.`,
    );
    this.timeline.note.textContent = peak ? `Peak: ${int(peak.total)} registrations, bucket starting ${peak.start}.` : 'No registrations in the period.';
    this.timeline.note.dataset.peakStart = peak?.start ?? '';
    this.timeline.note.dataset.peakTotal = String(peak?.total ?? '');
    this.timeline.setRows({
      header: ['start', 'end', 'total', ...GENDERS, ...(shift ? ['previousStart', 'previousTotal'] : [])],
      rows: buckets.map((b, i) => [
        b.start,
        b.end,
        b.total,
        ...GENDERS.map((g) => b.byGender?.find((x) => x.gender === g)?.count ?? 0),
        ...(shift ? [previous[i]?.start ?? null, previous[i]?.total ?? null] : []),
      ]),
    });
  }

  private renderGender(data: Registrations): void {
    const shares = data.byGender;
    const chart = draw(
      this.gender.chart,
      {
        tooltip: { trigger: 'item', formatter: '{b}: {c} ({d}%)' },
        legend: { bottom: 0 },
        series: [
          {
            type: 'pie',
            radius: ['0%', '70%'],
            center: ['50%', '45%'],
            // Small slices would crowd their labels: the legend, the tooltip and the
            // table name them.
            minShowLabelAngle: 12,
            label: { formatter: '{b}: {d}%' },
            data: shares.map((s) => ({ name: s.gender, value: s.count, itemStyle: { color: GENDER_COLORS[s.gender] } })),
          },
        ],
      },
      `Gender of ${data.total} registrations: ${shares.map((s) => `${s.gender} ${pct(s.percentage)}`).join(', ')}.`,
    );
    chart.off('click');
    chart.on('click', (p) => this.selectGender(String((p as { name: string }).name)));
    // The same selection from the keyboard: one button per gender.
    const buttons = shares.map((s) => {
      const b = el('button', { type: 'button', class: 'chip', 'aria-pressed': String(this.selectedGender === s.gender) }, s.gender);
      b.addEventListener('click', () => this.selectGender(s.gender));
      return b;
    });
    this.gender.body.replaceChildren(el('div', { class: 'chips', role: 'group', 'aria-label': 'Show the total of a gender' }, ...buttons));
    this.showGender();
    this.gender.setRows({ header: ['gender', 'count', 'percentage'], rows: shares.map((s) => [s.gender, s.count, s.percentage]) });
  }

  private selectGender(gender: string): void {
    this.selectedGender = gender;
    for (const b of this.gender.body.querySelectorAll('button')) b.setAttribute('aria-pressed', String(b.textContent === gender));
    this.showGender();
  }

  private showGender(): void {
    const s = this.last?.byGender.find((x) => x.gender === this.selectedGender);
    const note = this.gender.note;
    note.textContent = s ? `${s.gender}: ${int(s.count)} registrations (${pct(s.percentage)}).` : 'Click a slice (or a button) for its total.';
    note.dataset.gender = s?.gender ?? '';
    note.dataset.count = s ? String(s.count) : '';
    note.dataset.percentage = s ? String(s.percentage) : '';
  }

  private renderAge(data: Registrations): void {
    const rows = data.byAge;
    draw(
      this.age.chart,
      {
        tooltip: { trigger: 'axis' },
        grid: { left: 48, right: 16, top: 16, bottom: 32 },
        xAxis: { type: 'category', data: rows.map((r) => r.label) },
        yAxis: { type: 'value', minInterval: 1 },
        series: [{ type: 'bar', itemStyle: { color: ACCENT }, data: rows.map((r) => r.count), label: { show: true, position: 'top' } }],
      },
      `Age at registration: ${rows.map((r) => `${r.label} ${r.count}`).join(', ')}.`,
    );
    this.age.setRows({
      header: ['label', 'minAge', 'maxAge', 'count', 'percentage'],
      rows: rows.map((r) => [r.label, r.minAge, r.maxAge, r.count, r.percentage]),
    });
  }

  private geoTabs(): void {
    const list = el('div', { role: 'tablist', 'aria-label': 'Geography level', class: 'tabs' });
    const tabs = LEVELS.map(([level, label]) => {
      const tab = el('button', { type: 'button', role: 'tab', id: `geo-tab-${level}`, 'aria-controls': this.geo.chart.id }, label);
      tab.addEventListener('click', () => this.selectLevel(level));
      tab.addEventListener('keydown', (e) => {
        const i = LEVELS.findIndex(([l]) => l === this.level);
        const step = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
        if (step) {
          const next = LEVELS[(i + step + LEVELS.length) % LEVELS.length][0];
          this.selectLevel(next);
          document.getElementById(`geo-tab-${next}`)?.focus();
        }
      });
      return tab;
    });
    list.append(...tabs);
    this.geo.root.querySelector('header')?.after(list);
    this.markTabs();
  }

  private selectLevel(level: GeoLevel): void {
    this.level = level;
    this.markTabs();
    if (this.last) this.renderGeo(this.last);
  }

  private markTabs(): void {
    for (const [level] of LEVELS) {
      const tab = document.getElementById(`geo-tab-${level}`);
      tab?.setAttribute('aria-selected', String(level === this.level));
      tab?.setAttribute('tabindex', level === this.level ? '0' : '-1');
    }
  }

  private renderGeo(data: Registrations): void {
    const rows: GeoShare[] = data[this.level];
    const shown = rows.slice(0, 15).reverse();
    const name = (r: GeoShare) => (r.parent ? `${r.label} (${r.parent})` : r.label);
    draw(
      this.geo.chart,
      {
        tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
        grid: { left: 140, right: 48, top: 8, bottom: 24 },
        xAxis: { type: 'value', minInterval: 1 },
        yAxis: { type: 'category', data: shown.map(name), axisLabel: { width: 130, overflow: 'truncate' } },
        series: [
          {
            type: 'bar',
            label: { show: true, position: 'right' },
            data: shown.map((r) => ({ value: r.count, itemStyle: { color: r.isOther ? GHOST : ACCENT } })),
          },
        ],
      },
      `Registrations by ${this.level}: ${rows.slice(0, 10).map((r) => `${name(r)} ${r.count}`).join(', ')}${rows.length > 10 ? ', …' : ''}.`,
    );
    const other = rows.find((r) => r.isOther);
    this.geo.note.textContent = other ? `"Other" (outside the home country): ${int(other.count)} (${pct(other.percentage)}).` : '';
    this.geo.note.dataset.other = other ? String(other.count) : '';
    this.geo.setRows({
      header: ['label', 'code', 'parent', 'count', 'percentage', 'isOther'],
      rows: rows.map((r) => [r.label, r.code, r.parent, r.count, r.percentage, r.isOther]),
    });
  }
}

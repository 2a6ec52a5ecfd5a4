// One user's panels: the profile, overview tiles with the comparison, the events chart
// (day × position, details on hover), the bandwidth line, consumption details and
// playback quality.
import { ACCENT, GHOST, draw } from './charts';
import { bucketLabel, change, dec, int, localTime, ms, pct, position } from './format';
import { el, fillTable, panel, tile, type Panel } from './panel';
import type { Activity, Change, Figures, PlayerEvent, QualityFigures, UserProfile } from './types';

const TYPE_COLORS: Record<string, string> = {
  PLAYER_LOADED: '#90a4ae',
  PLAY: '#2e7d32',
  PLAYING: '#00796b',
  SEEK: '#f9a825',
  PAUSE: '#5d4037',
  BUFFERING: '#ef6c00',
  ENDED: '#455a64',
  ERROR: '#c62828',
};

export class UserPanels {
  private readonly profile: Panel;
  private readonly overview: Panel;
  private readonly events: Panel;
  private readonly bandwidth: Panel;
  private readonly details: Panel;
  private readonly quality: Panel;

  constructor(root: HTMLElement) {
    this.profile = panel(root, 'user-profile', 'User', { chart: false });
    this.overview = panel(root, 'overview', 'Overview', { chart: false });
    this.events = panel(root, 'events', 'Player events (day × position)', { wide: true });
    this.bandwidth = panel(root, 'bandwidth', 'Bandwidth (Kbps)', { wide: true });
    this.details = panel(root, 'details', 'Consumption details', { chart: false, wide: true });
    this.quality = panel(root, 'quality', 'Playback quality', { chart: false, wide: true });
  }

  renderProfile(user: UserProfile): void {
    const place = [user.city, user.state, user.country].filter(Boolean).join(', ') || 'Unknown place';
    this.profile.body.replaceChildren(
      el('p', { class: 'user-name', id: 'profile-name', text: user.name ?? `(name hidden: the key lacks the pii scope)` }),
      el('p', { text: `${user.id} · ${user.gender} · ${user.age === null ? 'age unknown' : `${user.age} years`} · ${place}` }),
      el('p', { text: `Registered ${user.registeredAt}` }),
    );
    this.profile.setRows({
      header: ['id', 'name', 'gender', 'age', 'country', 'state', 'city', 'registeredAt'],
      rows: [[user.id, user.name, user.gender, user.age, user.country, user.state, user.city, user.registeredAt]],
    });
  }

  renderActivity(a: Activity, granularity: string, shift: string | null): void {
    this.renderOverview(a, shift);
    this.renderBandwidth(a, granularity);
    this.renderDetails(a);
    this.renderQuality(a);
  }

  private renderOverview(a: Activity, shift: string | null): void {
    const item = (label: string, id: string, value: number, c: Change, text: string) => {
      const t = tile(label, text, value, shift ? `${change(c.percentage)} vs ${dec(c.previous)}` : '', id);
      if (shift) t.dataset.previous = String(c.previous);
      return t;
    };
    const o = a.overview;
    this.overview.body.replaceChildren(
      el(
        'div',
        { class: 'tiles' },
        item('Streams', 'overview-streams', o.streams, a.change.streams, int(o.streams)),
        item('Playback starts', 'overview-starts', o.playbackStarts, a.change.playbackStarts, int(o.playbackStarts)),
        item('Minutes consumed', 'overview-minutes', o.minutesConsumed, a.change.minutesConsumed, dec(o.minutesConsumed)),
      ),
    );
    this.overview.setRows({
      header: ['figure', 'value', 'previous', 'changePercentage'],
      rows: (['streams', 'playbackStarts', 'minutesConsumed'] as const).map((k) => [k, o[k], a.change[k].previous, a.change[k].percentage]),
    });
  }

  /** The events chart: one point per event, x its local day, y its position. */
  renderEvents(events: PlayerEvent[], days: string[], total: number): void {
    const types = [...new Set(events.map((e) => e.type))].sort();
    const series = types.map((type) => ({
      name: type,
      type: 'scatter',
      symbolSize: 7,
      itemStyle: { color: TYPE_COLORS[type] ?? ACCENT },
      data: events.flatMap((e, i) => (e.type === type ? [[e.day, (e.position ?? 0) / 60, i]] : [])),
    }));
    draw(
      this.events.chart,
      {
        tooltip: {
          trigger: 'item',
          formatter: (p: { data: [string, number, number] }) => eventTooltip(events[p.data[2]]),
        },
        legend: { top: 0, type: 'scroll' },
        grid: { left: 56, right: 16, top: 40, bottom: 40 },
        xAxis: { type: 'category', data: days, name: 'day', nameLocation: 'middle', nameGap: 26 },
        yAxis: { type: 'value', name: 'position (min)', min: 0 },
        series,
      },
      `${events.length} player events over ${days.length} days by position in the content.`,
    );
    this.events.note.textContent =
      events.length < total ? `Showing the first ${int(events.length)} of ${int(total)} events.` : `${int(total)} events.`;
    this.events.note.dataset.total = String(total);
    this.events.setRows({
      header: ['id', 'type', 'occurredAt', 'day', 'position', 'contentKind', 'contentId', 'contentTitle', 'device', 'referrer', 'bandwidthKbps', 'sessionId'],
      rows: events.map((e) => [e.id, e.type, e.occurredAt, e.day, e.position, e.contentKind, e.content?.id, e.content?.title, e.device, e.referrer, e.bandwidthKbps, e.sessionId]),
    });
  }

  private renderBandwidth(a: Activity, granularity: string): void {
    const points = a.bandwidth.points;
    const labels = points.map((p) => bucketLabel(p.start, granularity));
    draw(
      this.bandwidth.chart,
      {
        tooltip: { trigger: 'axis' },
        legend: { top: 0 },
        grid: { left: 64, right: 16, top: 40, bottom: points.length > 60 ? 56 : 32 },
        dataZoom: points.length > 60 ? [{ type: 'inside' }, { type: 'slider', height: 18, bottom: 8 }] : [],
        xAxis: { type: 'category', data: labels },
        yAxis: { type: 'value', name: 'Kbps' },
        series: [
          { name: 'average', type: 'line', connectNulls: false, itemStyle: { color: ACCENT }, data: points.map((p) => p.avgKbps) },
          { name: 'min', type: 'line', symbol: 'none', lineStyle: { width: 1, type: 'dotted' }, itemStyle: { color: GHOST }, data: points.map((p) => p.minKbps) },
          { name: 'max', type: 'line', symbol: 'none', lineStyle: { width: 1, type: 'dotted' }, itemStyle: { color: GHOST }, data: points.map((p) => p.maxKbps) },
        ],
      },
      `Bandwidth per ${granularity.toLowerCase()}: average over the period ${dec(a.bandwidth.averageKbps, ' Kbps')}.`,
    );
    this.bandwidth.note.textContent = `Average over the period: ${dec(a.bandwidth.averageKbps, ' Kbps')}.`;
    this.bandwidth.note.dataset.average = a.bandwidth.averageKbps === null ? '' : String(a.bandwidth.averageKbps);
    this.bandwidth.setRows({
      header: ['start', 'end', 'avgKbps', 'minKbps', 'maxKbps', 'samples'],
      rows: points.map((p) => [p.start, p.end, p.avgKbps, p.minKbps, p.maxKbps, p.samples]),
    });
  }

  private renderDetails(a: Activity): void {
    const d = a.details;
    // Shown rounded; the data table and the CSV keep the exact minutes.
    const shown = (f: Figures) => [f.streams, f.playbackStarts, dec(f.minutesConsumed)];
    const fig = (f: Figures) => [f.streams, f.playbackStarts, f.minutesConsumed];
    const split = (title: string, id: string, rows: { name: string; live: Figures; vod: Figures }[]) =>
      section(title, id, ['name', 'live streams', 'live starts', 'live minutes', 'VOD streams', 'VOD starts', 'VOD minutes'], rows.map((r) => [r.name, ...shown(r.live), ...shown(r.vod)]));
    const media = (title: string, id: string, rows: (Figures & { content: { id: string; title: string } })[]) =>
      section(title, id, ['content', 'title', 'streams', 'starts', 'minutes'], rows.map((r) => [r.content.id, r.content.title, ...shown(r)]));
    const sections = [
      section('Live and VOD', 'details-split', ['kind', 'streams', 'starts', 'minutes'], [['Live', ...shown(d.live)], ['VOD', ...shown(d.vod)]]),
      split('By device', 'details-devices', d.devices),
      split('By referrer', 'details-referrers', d.referrers),
      media('Medias (VOD)', 'details-medias', d.medias),
      media('Live signals', 'details-live-signals', d.liveSignals),
      section(`Logins (${int(d.logins.totalCount)})`, 'details-logins', ['occurredAt', 'device'], d.logins.nodes.map((l) => [localTime(l.occurredAt), l.device])),
    ];
    this.details.body.replaceChildren(el('div', { class: 'sections' }, ...sections.map((s) => s.node)));
    this.details.setRows({
      header: ['section', 'name', 'live streams', 'live starts', 'live minutes', 'VOD streams', 'VOD starts', 'VOD minutes'],
      rows: [
        ['total', 'Live', ...fig(d.live), null, null, null],
        ['total', 'VOD', null, null, null, ...fig(d.vod)],
        ...d.devices.map((r) => ['device', r.name, ...fig(r.live), ...fig(r.vod)]),
        ...d.referrers.map((r) => ['referrer', r.name, ...fig(r.live), ...fig(r.vod)]),
        ...d.medias.map((r) => ['media', r.content.title, null, null, null, ...fig(r)]),
        ...d.liveSignals.map((r) => ['liveSignal', r.content.title, ...fig(r), null, null, null]),
      ],
    });
  }

  private renderQuality(a: Activity): void {
    const q = a.quality;
    const tiles = el(
      'div',
      { class: 'tiles' },
      tile('Average startup', ms(q.startup.averageMs), q.startup.averageMs, `${int(q.startup.sessions)} sessions, max ${ms(q.startup.maxMs)}`, 'quality-startup'),
      tile('Exits before start', int(q.exitsBeforeStart), q.exitsBeforeStart, '', 'quality-exits'),
      tile('Rebuffering', `${dec(q.rebuffering.seconds)} s`, q.rebuffering.seconds, `${int(q.rebuffering.count)} times, ratio ${pct(q.rebuffering.ratio === null ? null : q.rebuffering.ratio * 100)}`, 'quality-rebuffering'),
      tile('Errors', int(q.errors), q.errors, '', 'quality-errors'),
    );
    const header = ['name', 'startup sessions', 'average startup (ms)', 'max startup (ms)', 'exits before start', 'rebuffers', 'rebuffer seconds', 'rebuffer ratio', 'errors'];
    const row = (name: string, f: QualityFigures) => [
      name,
      f.startup.sessions,
      f.startup.averageMs,
      f.startup.maxMs,
      f.exitsBeforeStart,
      f.rebuffering.count,
      f.rebuffering.seconds,
      f.rebuffering.ratio,
      f.errors,
    ];
    const rows = [row('All', q), row('Live', q.live), row('VOD', q.vod), ...q.devices.map((d) => row(d.name, d))];
    // The table shows rounded figures; the CSV keeps the API's.
    const shownHeader = ['name', 'startup sessions', 'average startup', 'max startup', 'exits before start', 'rebuffers', 'rebuffer seconds', 'rebuffer ratio', 'errors'];
    const shown = (name: string, f: QualityFigures) => [
      name,
      int(f.startup.sessions),
      ms(f.startup.averageMs),
      ms(f.startup.maxMs),
      int(f.exitsBeforeStart),
      int(f.rebuffering.count),
      dec(f.rebuffering.seconds),
      pct(f.rebuffering.ratio === null ? null : f.rebuffering.ratio * 100),
      int(f.errors),
    ];
    const shownRows = [shown('All', q), shown('Live', q.live), shown('VOD', q.vod), ...q.devices.map((d) => shown(d.name, d))];
    const table = el('table', { id: 'quality-split' });
    fillTable(table, { header: shownHeader, rows: shownRows });
    this.quality.body.replaceChildren(tiles, scrolling('Playback quality by split', table));
    this.quality.setRows({ header, rows });
  }
}

function section(title: string, id: string, header: string[], rows: (string | number | null)[][]): { node: HTMLElement } {
  const table = el('table', { id });
  fillTable(table, { header, rows });
  const node = el('section', { class: 'detail', 'aria-labelledby': `${id}-title` }, el('h4', { id: `${id}-title`, text: title }), scrolling(title, table));
  return { node };
}

/** A table that may scroll sideways on a small screen: focusable, so that the keyboard
 * can scroll it too (WCAG 2.1.1), and named for screen readers. */
function scrolling(label: string, table: HTMLElement): HTMLElement {
  return el('div', { class: 'scroll', tabindex: '0', role: 'region', 'aria-label': label }, table);
}

function eventTooltip(e: PlayerEvent | undefined): string {
  if (!e) return '';
  const esc = (s: string | null | undefined) => (s ?? '—').replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return [
    `<b>${esc(e.type)}</b> ${esc(localTime(e.occurredAt))}`,
    `position ${position(e.position)}`,
    `${esc(e.contentKind)} · ${esc(e.content?.title ?? e.content?.id)}`,
    `device ${esc(e.device)} · referrer ${esc(e.referrer)}`,
    `bandwidth ${e.bandwidthKbps === null ? '—' : `${dec(e.bandwidthKbps)} Kbps`}`,
    `<span class="event-id">event ${esc(e.id)}</span> · session ${esc(e.sessionId)}`,
  ].join('<br>');
}

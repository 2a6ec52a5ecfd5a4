// The dashboard: filters, the key, and the panels, kept live over the public API.
import { Api, ApiError } from './api';
import {
  GRANULARITIES,
  PRESETS,
  addDays,
  daysBetween,
  defaultGranularity,
  isDate,
  presetPeriod,
  today,
  type Granularity,
  type LocalPeriod,
  type Preset,
} from './period';
import { LIVE_REGISTRATIONS, LIVE_USER_ACTIVITY, REGISTRATIONS, TENANT_ZONE, USER_ACTIVITY, USER_EVENTS, USER_NAME } from './queries';
import { RegistrationPanels } from './registrations';
import type { Activity, EventsPage, PlayerEvent, Registrations, UserProfile } from './types';
import { UserPanels } from './user';

interface Demo {
  key: string | null;
  user: string | null;
}

/** What `serve --demo` fills in: the page carries it as JSON (no inline script runs
 * under the page's Content-Security-Policy). */
function demo(): Demo | null {
  try {
    return JSON.parse(document.getElementById('ottstats-demo')?.textContent ?? 'null') as Demo | null;
  } catch {
    return null;
  }
}

const KEY_STORAGE = 'ottstats.key';
/** The events chart reads at most this many events (five pages). */
const MAX_EVENTS = 5_000;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

class Dashboard {
  private api: Api | null = null;
  private zone = 'UTC';
  private tenantZone = 'UTC';
  private readonly registrations = new RegistrationPanels($('registrations-panels'));
  private readonly user = new UserPanels($('user-panels'));
  private stopRegistrations: (() => void) | null = null;
  private stopUser: (() => void) | null = null;
  private userId: string | null = null;
  /** Each load bumps it; an answer of an older load is dropped. */
  private generation = 0;
  private nameLookup = 0;

  constructor(private readonly demo: Demo | null) {}

  async start(): Promise<void> {
    this.fillControls();
    const params = new URLSearchParams(location.search);
    const key = sessionStorage.getItem(KEY_STORAGE) ?? this.demo?.key ?? '';
    $<HTMLInputElement>('key').value = key;
    $<HTMLInputElement>('user-id').value = params.get('user') ?? this.demo?.user ?? '';
    if (params.get('preset')) $<HTMLSelectElement>('preset').value = params.get('preset')!;
    if (params.get('from') && params.get('to')) {
      $<HTMLSelectElement>('preset').value = 'custom';
      $<HTMLInputElement>('from').value = params.get('from')!;
      $<HTMLInputElement>('to').value = addDays(params.get('to')!, -1);
    }
    if (params.get('granularity')) $<HTMLSelectElement>('granularity').value = params.get('granularity')!;
    if (params.has('shift')) $<HTMLSelectElement>('shift').value = params.get('shift')!;
    this.wire();
    if (key) await this.connect(key, params.get('zone'));
    else this.status('Enter an API key to see the figures.');
  }

  private fillControls(): void {
    const preset = $<HTMLSelectElement>('preset');
    preset.replaceChildren(...PRESETS.map(([value, label]) => new Option(label, value)));
    preset.value = 'last30';
    const granularity = $<HTMLSelectElement>('granularity');
    granularity.replaceChildren(new Option('Automatic', ''), ...GRANULARITIES.map((g) => new Option(g[0] + g.slice(1).toLowerCase(), g)));
  }

  private wire(): void {
    $('key-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const key = $<HTMLInputElement>('key').value.trim();
      if (!key) return;
      sessionStorage.setItem(KEY_STORAGE, key);
      void this.connect(key, null);
    });
    $('filters').addEventListener('change', () => {
      this.showCustom();
      void this.reload();
    });
    $('filters').addEventListener('submit', (e) => {
      e.preventDefault();
      void this.reload();
    });
    const userId = $<HTMLInputElement>('user-id');
    let timer = 0;
    userId.addEventListener('input', () => {
      clearTimeout(timer);
      timer = window.setTimeout(() => void this.lookUpName(), 250);
    });
    $('user-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const id = userId.value.trim();
      this.userId = id || null;
      void this.reload();
    });
    $('user-clear').addEventListener('click', () => {
      userId.value = '';
      this.userId = null;
      $('user-name').textContent = '';
      void this.reload();
    });
    this.showCustom();
  }

  private async connect(key: string, zone: string | null): Promise<void> {
    this.api?.close();
    this.api = new Api(key);
    try {
      const { data } = await this.api.query<{ registrations: { period: { timeZone: string } } }>(TENANT_ZONE, {});
      this.tenantZone = data.registrations.period.timeZone;
    } catch (e) {
      this.fail(e);
      return;
    }
    this.fillZones(zone ?? this.tenantZone);
    this.userId = $<HTMLInputElement>('user-id').value.trim() || null;
    if (this.userId) void this.lookUpName();
    await this.reload();
  }

  private fillZones(selected: string): void {
    const select = $<HTMLSelectElement>('zone');
    const all = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
    const zones = [...new Set([this.tenantZone, 'UTC', ...all])];
    select.replaceChildren(...zones.map((z) => new Option(z === this.tenantZone ? `${z} (the tenant's)` : z, z)));
    select.value = zones.includes(selected) ? selected : this.tenantZone;
  }

  private showCustom(): void {
    const custom = $<HTMLSelectElement>('preset').value === 'custom';
    $('custom-dates').hidden = !custom;
  }

  /** The period the filters say, or null (with the reason shown) when they say none. */
  private period(): LocalPeriod | null {
    const preset = $<HTMLSelectElement>('preset').value as Preset;
    this.zone = $<HTMLSelectElement>('zone').value || this.tenantZone;
    if (preset !== 'custom') return presetPeriod(preset, today(this.zone));
    const from = $<HTMLInputElement>('from').value;
    const last = $<HTMLInputElement>('to').value;
    if (!isDate(from) || !isDate(last)) {
      this.status('Choose both dates of the custom period.');
      return null;
    }
    if (daysBetween(from, last) < 0) {
      this.status('The custom period ends before it starts.');
      return null;
    }
    return { from, to: addDays(last, 1) };
  }

  private async reload(): Promise<void> {
    const api = this.api;
    if (!api) return;
    const period = this.period();
    if (!period) return;
    const generation = ++this.generation;
    const granularity = ($<HTMLSelectElement>('granularity').value || defaultGranularity(period)) as Granularity;
    const shiftValue = $<HTMLSelectElement>('shift').value;
    const shift = shiftValue || null;
    const variables = { period: { ...period, timeZone: this.zone }, granularity, shift: shift ?? 'PREVIOUS_PERIOD' };
    this.remember(period, granularity, shiftValue);
    this.stopRegistrations?.();
    this.stopUser?.();
    this.status('Loading…');
    try {
      const { data } = await api.query<{ registrations: Registrations }>(REGISTRATIONS, variables);
      if (generation !== this.generation) return;
      this.registrations.render(data.registrations, granularity, shift);
      this.stopRegistrations = api.subscribe<{ liveRegistrations: Registrations }>(
        LIVE_REGISTRATIONS,
        variables,
        (live) => {
          if (generation !== this.generation) return;
          this.registrations.render(live.liveRegistrations, granularity, shift);
          this.live();
        },
        (e) => this.fail(e),
      );
      $('user-section').hidden = !this.userId;
      if (this.userId) await this.loadUser(api, this.userId, variables, period, generation);
      if (generation === this.generation) this.live();
    } catch (e) {
      if (generation === this.generation) this.fail(e);
    }
  }

  private async loadUser(api: Api, id: string, variables: Record<string, unknown>, period: LocalPeriod, generation: number): Promise<void> {
    const vars = { ...variables, id };
    const { data } = await api.query<{ user: (UserProfile & { activity: Activity }) | null }>(USER_ACTIVITY, vars, ['name']);
    if (generation !== this.generation) return;
    if (!data.user) {
      $('user-section').hidden = true;
      this.status(`The tenant has no user "${id}".`);
      return;
    }
    this.user.renderProfile(data.user);
    this.user.renderActivity(data.user.activity, variables.granularity as string, ($<HTMLSelectElement>('shift').value || null) as string | null);
    await this.loadEvents(api, id, variables.period, period, generation);
    this.stopUser = api.subscribe<{ liveUserActivity: Activity }>(
      LIVE_USER_ACTIVITY,
      vars,
      (live) => {
        if (generation !== this.generation) return;
        this.user.renderActivity(live.liveUserActivity, variables.granularity as string, ($<HTMLSelectElement>('shift').value || null) as string | null);
        void this.loadEvents(api, id, variables.period, period, generation);
        this.live();
      },
      (e) => this.fail(e),
    );
  }

  private async loadEvents(api: Api, id: string, periodVar: unknown, period: LocalPeriod, generation: number): Promise<void> {
    const events: PlayerEvent[] = [];
    let after: string | null = null;
    let total = 0;
    for (;;) {
      const answer: { data: { user: { activity: { events: EventsPage } } | null } } = await api.query(USER_EVENTS, {
        id,
        period: periodVar,
        after,
      });
      const page: EventsPage | undefined = answer.data.user?.activity.events;
      if (!page) break;
      total = page.totalCount;
      events.push(...page.nodes);
      if (!page.pageInfo.hasNextPage || events.length >= MAX_EVENTS) break;
      after = page.pageInfo.endCursor;
    }
    if (generation !== this.generation) return;
    const days: string[] = [];
    for (let d = period.from; d < period.to; d = addDays(d, 1)) days.push(d);
    this.user.renderEvents(events, days, total);
  }

  private async lookUpName(): Promise<void> {
    const api = this.api;
    const id = $<HTMLInputElement>('user-id').value.trim();
    const out = $('user-name');
    const lookup = ++this.nameLookup;
    if (!api || !id) {
      out.textContent = '';
      return;
    }
    try {
      type Named = { id: string; name: string | null };
      const { data } = await api.query<{ user: Named | null; usersByIdPrefix: Named[] }>(USER_NAME, { id, prefix: id }, ['name']);
      if (lookup !== this.nameLookup) return;
      out.textContent = data.user ? (data.user.name ?? `${data.user.id} (name hidden without the pii scope)`) : 'No user with this id.';
      out.dataset.found = String(Boolean(data.user));
      const options = data.usersByIdPrefix.map((u) => new Option(u.name ?? u.id, u.id));
      $('user-suggestions').replaceChildren(...options);
    } catch (e) {
      if (lookup === this.nameLookup) out.textContent = e instanceof ApiError ? e.message : String(e);
    }
  }

  /** Keeps the filters in the address, so that a view can be bookmarked or shared. */
  private remember(period: LocalPeriod, granularity: string, shift: string): void {
    const params = new URLSearchParams();
    const preset = $<HTMLSelectElement>('preset').value;
    if (preset === 'custom') {
      params.set('from', period.from);
      params.set('to', period.to);
    } else params.set('preset', preset);
    if (this.zone !== this.tenantZone) params.set('zone', this.zone);
    if ($<HTMLSelectElement>('granularity').value) params.set('granularity', granularity);
    if (shift !== 'PREVIOUS_PERIOD') params.set('shift', shift);
    if (this.userId) params.set('user', this.userId);
    history.replaceState(null, '', `${location.pathname}?${params}`);
  }

  private live(): void {
    const time = new Date().toLocaleTimeString();
    this.status(`Live: updated at ${time}.`);
    $('status').dataset.state = 'live';
  }

  private status(text: string): void {
    $('status').textContent = text;
    $('status').dataset.state = '';
  }

  private fail(e: unknown): void {
    const text = e instanceof ApiError ? `${e.message}${e.code ? ` (${e.code})` : ''}` : String(e);
    this.status(text);
    $('status').dataset.state = 'error';
  }
}

void new Dashboard(demo()).start();

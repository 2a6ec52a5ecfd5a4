// The date filter: presets read in the chosen time zone, as local dates `[from, to)`.

export type Preset = 'last7' | 'last30' | 'thisMonth' | 'last12Months' | 'custom';
export type Granularity = 'HOUR' | 'DAY' | 'WEEK' | 'MONTH' | 'YEAR';
export type Shift = 'PREVIOUS_PERIOD' | 'PREVIOUS_YEAR';

export const PRESETS: [Preset, string][] = [
  ['last7', 'Last 7 days'],
  ['last30', 'Last 30 days'],
  ['thisMonth', 'This month'],
  ['last12Months', 'Last 12 months'],
  ['custom', 'Custom'],
];

export const GRANULARITIES: Granularity[] = ['HOUR', 'DAY', 'WEEK', 'MONTH', 'YEAR'];

/** Local dates as `YYYY-MM-DD`, `to` excluded. */
export interface LocalPeriod {
  from: string;
  to: string;
}

/** Today's date in `timeZone`. */
export function today(timeZone: string, now: Date = new Date()): string {
  // en-CA writes dates as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
}

/** `date` moved by `days` calendar days. */
export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** The first day of `date`'s month, moved by `months` months. */
export function monthStart(date: string, months = 0): string {
  const d = new Date(`${date.slice(0, 7)}-01T00:00:00Z`);
  d.setUTCMonth(d.getUTCMonth() + months);
  return d.toISOString().slice(0, 10);
}

/** Calendar days from `from` to `to`. */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

/** The period of a preset: every preset ends with today (included), so that what
 * streams in shows at once. */
export function presetPeriod(preset: Exclude<Preset, 'custom'>, todayDate: string): LocalPeriod {
  const to = addDays(todayDate, 1);
  switch (preset) {
    case 'last7':
      return { from: addDays(todayDate, -6), to };
    case 'last30':
      return { from: addDays(todayDate, -29), to };
    case 'thisMonth':
      return { from: monthStart(todayDate), to };
    case 'last12Months':
      return { from: monthStart(todayDate, -11), to };
  }
}

/** The bucket width a period is first shown with. */
export function defaultGranularity(period: LocalPeriod): Granularity {
  const days = daysBetween(period.from, period.to);
  if (days <= 3) return 'HOUR';
  if (days <= 92) return 'DAY';
  if (days <= 731) return 'MONTH';
  return 'YEAR';
}

/** Whether `text` is a real calendar date `YYYY-MM-DD`. */
export function isDate(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const d = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === text;
}

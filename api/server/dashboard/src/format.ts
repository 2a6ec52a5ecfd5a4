// How figures are written on the page.

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

export function int(n: number): string {
  return integer.format(n);
}

export function dec(n: number | null | undefined, unit = ''): string {
  return n === null || n === undefined ? '—' : `${decimal.format(n)}${unit}`;
}

export function pct(n: number | null | undefined): string {
  return n === null || n === undefined ? '—' : `${decimal.format(n)}%`;
}

/** A change as "+12.5%" / "−3%", or "no earlier data" when there is no percentage. */
export function change(percentage: number | null): string {
  if (percentage === null) return 'n/a (nothing before)';
  const sign = percentage > 0 ? '+' : percentage < 0 ? '−' : '±';
  return `${sign}${decimal.format(Math.abs(percentage))}%`;
}

export function ms(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—';
  return n >= 1000 ? `${decimal.format(n / 1000)} s` : `${integer.format(n)} ms`;
}

/** A bucket's start as its wall clock in the period's zone: the instant is written with
 * that zone's offset, so its text is the local time. */
export function bucketLabel(start: string, granularity: string): string {
  const date = start.slice(0, 10);
  switch (granularity) {
    case 'HOUR':
      return `${date.slice(5)} ${start.slice(11, 16)}`;
    case 'MONTH':
      return date.slice(0, 7);
    case 'YEAR':
      return date.slice(0, 4);
    default:
      return date;
  }
}

/** An instant's local wall clock, as written by the server in the period's zone. */
export function localTime(instant: string): string {
  return `${instant.slice(0, 10)} ${instant.slice(11, 19)}`;
}

export function position(seconds: number | null): string {
  if (seconds === null) return '—';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

// A panel: a titled card with a chart (or tiles), its data as a table for screen readers
// and for copying, and a CSV download of the same rows.
import { type Cell, download, toCsv } from './csv';

export interface Rows {
  header: string[];
  rows: Cell[][];
}

export interface Panel {
  root: HTMLElement;
  chart: HTMLElement;
  body: HTMLElement;
  note: HTMLElement;
  /** Replaces the table (and what the CSV button downloads). */
  setRows(rows: Rows): void;
}

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === 'text') node.textContent = value;
    else node.setAttribute(name, value);
  }
  node.append(...children);
  return node;
}

/** A panel `id` titled `title` in `parent`; `chart: false` for a panel of tiles only. */
export function panel(parent: HTMLElement, id: string, title: string, options: { chart?: boolean; wide?: boolean } = {}): Panel {
  const heading = el('h3', { id: `${id}-title`, text: title });
  const csv = el('button', { type: 'button', class: 'csv', 'aria-label': `Download the data of "${title}" as CSV` }, 'CSV');
  const chart = el('div', { class: 'chart', role: 'img', id: `${id}-chart` });
  const note = el('p', { class: 'note', id: `${id}-note` });
  const body = el('div', { class: 'body', id: `${id}-body` });
  const table = el('table', { id: `${id}-table` });
  const details = el('details', { class: 'table' }, el('summary', {}, 'Data table'), table);
  const root = el('article', { class: `panel${options.wide ? ' wide' : ''}`, id, 'aria-labelledby': heading.id });
  root.append(el('header', {}, heading, csv));
  if (options.chart !== false) root.append(chart);
  root.append(body, note, details);
  parent.append(root);
  let current: Rows = { header: [], rows: [] };
  csv.addEventListener('click', () => download(`${id}.csv`, toCsv(current.header, current.rows)));
  return {
    root,
    chart,
    body,
    note,
    setRows(rows: Rows) {
      current = rows;
      fillTable(table, rows);
    },
  };
}

export function fillTable(table: HTMLTableElement, { header, rows }: Rows): void {
  const head = el('thead', {}, el('tr', {}, ...header.map((h) => el('th', { scope: 'col', text: h }))));
  const body = el(
    'tbody',
    {},
    ...rows.map((row) => el('tr', {}, ...row.map((c) => el('td', { text: c === null || c === undefined ? '' : String(c) })))),
  );
  table.replaceChildren(head, body);
}

/** A figure tile: label, value (kept raw in `data-value` too) and an optional line under it. */
export function tile(label: string, value: string, raw: number | null, sub = '', id = ''): HTMLElement {
  const attrs: Record<string, string> = { class: 'tile' };
  if (id) attrs.id = id;
  const node = el('div', attrs, el('span', { class: 'label', text: label }));
  const v = el('span', { class: 'value', text: value });
  if (raw !== null) v.dataset.value = String(raw);
  node.append(v);
  if (sub) node.append(el('span', { class: 'sub', text: sub }));
  return node;
}

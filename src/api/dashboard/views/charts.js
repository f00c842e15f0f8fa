/*
 * The dashboard's charts, drawn with Chart.js: served from node_modules at /dashboard/vendor/chart.umd.min.js and
 * loaded by index.html before the modules (it defines window.Chart). Each chart is a <figure> with its loading,
 * empty, error and drawn states (`data-state`), a caption in words, and the figures per day as a table for those
 * who cannot see the canvas.
 *
 * The models come from chart-data.js; this file only maps them to Chart.js and the DOM.
 */
import { h, setText, show } from '../dom.js';
import { formatDate, formatDay, formatMilli, formatMoney, formatPermille, plotToMinor } from '../format.js';

/** Colours from the stylesheet's custom properties, so the charts follow light and dark mode. */
function palette() {
  const css = getComputedStyle(document.documentElement);
  const v = (name) => css.getPropertyValue(name).trim();
  return {
    ok: v('--ok'),
    warn: v('--warn'),
    full: v('--full'),
    payg: v('--payg'),
    muted: v('--muted'),
    border: v('--border'),
  };
}

/** `#rrggbb` + alpha → rgba(), for bars lighter than their line. */
function withAlpha(hex, alpha) {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  return m ? `rgba(${parseInt(m[1], 16)}, ${parseInt(m[2], 16)}, ${parseInt(m[3], 16)}, ${alpha})` : hex;
}

const line = (label, data, color, extra) => ({
  type: 'line',
  label,
  data,
  yAxisID: 'total',
  borderColor: color,
  backgroundColor: color,
  borderWidth: 2,
  pointRadius: 0,
  pointHoverRadius: 3,
  spanGaps: false,
  ...extra,
});
const level = (label, data, color) => line(label, data, color, { borderWidth: 1.5, borderDash: [6, 4] });
const bars = (label, data, color) => ({
  type: 'bar',
  label,
  data,
  yAxisID: 'perDay',
  stack: 'day',
  backgroundColor: color,
  borderRadius: 2,
  maxBarThickness: 18,
});

/**
 * A chart in `container`: `{ loading(), error(message), member(model, balance), team(model), destroy() }`.
 * `testId` names the figure for tests; its parts are `${testId}-caption`, `${testId}-projection`.
 */
export function createChart(container, { testId, label }) {
  const loadingEl = h('p', { class: 'state state--loading' }, 'Loading chart…');
  const emptyEl = h('p', {
    class: 'state state--empty chart__empty',
    dataset: { testid: testId + '-empty' },
    hidden: true,
  });
  const canvas = h('canvas', { role: 'img', 'aria-label': label });
  const canvasWrap = h('div', { class: 'chart__canvas', hidden: true }, canvas);
  const captionEl = h('p', { class: 'chart__caption', dataset: { testid: testId + '-caption' } });
  const projectionEl = h('p', {
    class: 'chart__projection',
    dataset: { testid: testId + '-projection' },
    hidden: true,
  });
  const tableBody = h('tbody');
  const tableHead = h('tr');
  const figuresEl = h(
    'details',
    { class: 'chart__figures', hidden: true },
    h('summary', null, 'Figures per day'),
    h('div', { class: 'table-wrap' }, h('table', { class: 'figures' }, h('thead', null, tableHead), tableBody)),
  );
  const figure = h(
    'figure',
    { class: 'chart', dataset: { testid: testId, state: 'loading' }, 'aria-busy': 'true' },
    loadingEl,
    emptyEl,
    canvasWrap,
    h('figcaption', null, captionEl, projectionEl),
    figuresEl,
  );
  container.replaceChildren(figure);
  let chart = null;

  const setState = (state) => {
    figure.dataset.state = state;
    figure.setAttribute('aria-busy', state === 'loading' ? 'true' : 'false');
    show(loadingEl, state === 'loading');
    show(canvasWrap, state === 'ready');
    show(figuresEl, state === 'ready');
  };

  function draw(config) {
    const Chart = window.Chart;
    if (!Chart) return api.error('The charting library did not load; reload the page to see the charts.');
    if (chart && chart.config.type === config.type) {
      chart.data = config.data;
      chart.options = config.options;
      chart.update('none');
    } else {
      if (chart) chart.destroy();
      chart = new Chart(canvas, config);
    }
    setState('ready');
  }

  function setFigures(headers, rows) {
    tableHead.replaceChildren(...headers.map((t) => h('th', { scope: 'col' }, t)));
    tableBody.replaceChildren(
      ...rows.map(([first, ...rest]) =>
        h('tr', null, h('th', { scope: 'row' }, first), ...rest.map((t) => h('td', null, t))),
      ),
    );
  }

  const api = {
    loading() {
      // Keep what is drawn while a refresh loads: only a chart with nothing yet says "Loading".
      if (figure.dataset.state === 'ready' || figure.dataset.state === 'empty') return;
      setState('loading');
    },
    error(message) {
      if (figure.dataset.state === 'ready') return; // a failed refresh keeps the last picture; the banner says why
      setState('error');
      show(emptyEl, true);
      setText(emptyEl, message);
    },

    /** A member's credits per day (chart-data.js#memberChartModel) and their balance (GET …/credits). */
    member(model, balance) {
      setText(captionEl, memberCaption(model, balance));
      setText(projectionEl, projectionText(model, balance));
      show(projectionEl, !model.empty);
      if (model.empty) {
        if (chart) chart.destroy();
        chart = null;
        setState('empty');
        show(emptyEl, true);
        setText(emptyEl, 'No credits used yet this period.');
        return;
      }
      show(emptyEl, false);
      const c = palette();
      const s = model.series;
      const datasets = [
        line('Used so far', s.cumulative, c.ok, { pointRadius: 2 }),
        line('At the current pace', s.projection, c.ok, { borderWidth: 1.5, borderDash: [2, 3], spanGaps: true }),
        level('75 % of credits', s.line75, c.warn),
        level('100 % of credits', s.line100, c.full),
        bars('Used that day', s.used, withAlpha(c.ok, 0.35)),
      ];
      if (model.paygSoFar > 0n) datasets.push(bars('Pay-as-you-go that day', s.payg, withAlpha(c.payg, 0.6)));
      draw(config(model.days, datasets, { total: 'Credits used so far', perDay: 'Credits per day' }, creditsText));
      setFigures(
        ['Day', 'Used', 'Used so far', 'Pay-as-you-go'],
        model.days
          .map((day, i) => [formatDay(day), s.used[i], s.cumulative[i], s.payg[i]])
          .filter((r) => r[1] !== null)
          .map(([day, used, sum, payg]) => [day, creditsText(used), creditsText(sum), creditsText(payg)]),
      );
    },

    /** The team's PAYG charges per day against its threshold and cap (chart-data.js#teamChartModel). */
    team(model) {
      setText(captionEl, teamCaption(model));
      show(projectionEl, false);
      if (model.empty) {
        if (chart) chart.destroy();
        chart = null;
        setState('empty');
        show(emptyEl, true);
        setText(emptyEl, 'No pay-as-you-go charges this period.');
        return;
      }
      show(emptyEl, false);
      const c = palette();
      const s = model.series;
      const money = (v) =>
        v === null ? '' : formatMoney({ amountMinor: plotToMinor(v, model.currency), currency: model.currency });
      const datasets = [line('Charges so far', s.cumulative, c.payg, { pointRadius: 2 })];
      if (s.threshold) datasets.push(level('Billing threshold', s.threshold, c.warn));
      if (s.cap) datasets.push(level('PAYG cap', s.cap, c.full));
      datasets.push(bars('Charges that day', s.charge, withAlpha(c.payg, 0.45)));
      draw(config(model.days, datasets, { total: 'Charges so far', perDay: 'Charges per day' }, money));
      setFigures(
        ['Day', 'Charges', 'Charges so far'],
        model.days
          .map((day, i) => [formatDay(day), s.charge[i], s.cumulative[i]])
          .filter((r) => r[1] !== null)
          .map(([day, charge, sum]) => [day, money(charge), money(sum)]),
      );
    },

    destroy() {
      if (chart) chart.destroy();
      chart = null;
      container.replaceChildren();
    },
  };
  api.loading();
  return api;
}

/** Plotted credits back to text: the floats came from exact millicredits, so rounding to 3 decimals restores them. */
function creditsText(v) {
  return v === null || v === undefined ? '' : formatMilli(BigInt(Math.round(v * 1000)));
}

function config(days, datasets, titles, format) {
  const c = palette();
  // The day's bars keep to the lower half, under the running total and its 75 % / 100 % (or threshold) lines.
  const barsOf = datasets.filter((d) => d.type === 'bar');
  const tallestDay = Math.max(0, ...days.map((_, i) => barsOf.reduce((sum, d) => sum + (d.data[i] ?? 0), 0)));
  return {
    type: 'bar',
    data: { labels: days.map(formatDay), datasets },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      interaction: { mode: 'index', intersect: false },
      color: c.muted,
      scales: {
        x: { stacked: true, grid: { display: false }, ticks: { color: c.muted, maxRotation: 0, autoSkipPadding: 8 } },
        total: {
          position: 'left',
          beginAtZero: true,
          title: { display: true, text: titles.total, color: c.muted },
          ticks: { color: c.muted },
          grid: { color: c.border },
        },
        perDay: {
          position: 'right',
          stacked: true,
          beginAtZero: true,
          suggestedMax: tallestDay * 2,
          title: { display: true, text: titles.perDay, color: c.muted },
          ticks: { color: c.muted },
          grid: { display: false },
        },
      },
      plugins: {
        legend: { position: 'bottom', labels: { color: c.muted, boxWidth: 14, boxHeight: 2 } },
        tooltip: {
          callbacks: {
            label: (ctx) => (ctx.raw === null ? '' : ctx.dataset.label + ': ' + format(ctx.raw)),
          },
        },
      },
    },
  };
}

function memberCaption(model, balance) {
  const parts = [];
  const total = model.total;
  if (total > 0n) {
    const used = model.usedSoFar;
    const permille = Number((used * 1000n) / total > 1000n ? 1000n : (used * 1000n) / total);
    parts.push(formatMilli(used) + ' of ' + formatMilli(total) + ' credits used (' + formatPermille(permille) + ')');
  } else parts.push('No credits this period');
  if (model.paygSoFar > 0n) parts.push(formatMilli(model.paygSoFar) + ' credits billed as pay-as-you-go');
  parts.push('credits renew on ' + formatDate(balance.periodEnd));
  return parts.join(' · ') + '.';
}

function projectionText(model, balance) {
  const r = model.reach;
  const pace = (p) => formatMilli(p) + ' credits a day';
  switch (r.kind) {
    case 'reached':
      return '100 % of the credits was reached on ' + formatDay(r.day) + '.';
    case 'projected':
      return 'At the current pace (' + pace(r.perDayMilli) + '), 100 % is reached on ' + formatDay(r.day) + '.';
    case 'lasts':
      return (
        'At the current pace (' +
        pace(r.perDayMilli) +
        '), the credits last until they renew on ' +
        formatDate(balance.periodEnd) +
        '.'
      );
    default:
      return '';
  }
}

function teamCaption(model) {
  const money = (amountMinor) => formatMoney({ amountMinor, currency: model.currency });
  const parts = ['Pay-as-you-go charges this period ' + money(model.chargedMinor)];
  parts.push(model.threshold === null ? 'no billing threshold set' : 'billing threshold ' + money(model.threshold));
  if (model.cap !== null) parts.push('cap ' + money(model.cap));
  return parts.join(' · ') + '.';
}

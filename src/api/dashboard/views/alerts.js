/* The signed-in member's in-product alerts (GET /v1/me/alerts), newest first. */
import { api } from '../api.js';
import { $, h, show } from '../dom.js';
import { formatDateTime } from '../format.js';

const ALERT_LABELS = {
  member_75: '75% used',
  member_100: '100% used',
  member_exceeded: 'Pay-as-you-go',
  member_payg_cap: 'PAYG cap',
  member_team_payg_cap: 'Team PAYG cap',
  member_paused: 'Paused',
  member_resumed: 'Resumed',
};
/** The list as last drawn: an unchanged answer leaves the DOM alone. */
let drawnKey = null;

export async function loadAlerts() {
  try {
    const { data } = await api('GET', '/v1/me/alerts');
    render(data);
  } finally {
    show($('alerts-loading'), false);
  }
}

function render(data) {
  const alerts = Array.isArray(data.alerts) ? data.alerts.slice() : [];
  // Newest first (the API already sends them so; ISO strings sort as instants).
  alerts.sort((a, b) => String(b.createdAt).localeCompare(String(a.createdAt)));
  const key = JSON.stringify(alerts);
  if (key === drawnKey) return;
  drawnKey = key;
  const list = $('alerts-list');
  list.replaceChildren(
    ...alerts.map((a) =>
      h(
        'li',
        {
          class: 'alert alert--' + String(a.kind).replace(/[^a-z0-9_-]/gi, ''),
          dataset: { testid: 'alert-' + a.id, kind: String(a.kind) },
        },
        h('span', { class: 'tag tag--alert' }, ALERT_LABELS[a.kind] || 'Notice'),
        h('p', { class: 'alert__message' }, String(a.message || '')),
        h('time', { class: 'alert__time hint', datetime: String(a.createdAt) }, formatDateTime(a.createdAt)),
      ),
    ),
  );
  show(list, alerts.length > 0);
  show($('alerts-empty'), alerts.length === 0);
}

export function resetAlerts() {
  drawnKey = null;
  $('alerts-list').replaceChildren();
  show($('alerts-list'), false);
  show($('alerts-empty'), false);
  show($('alerts-loading'), true);
}

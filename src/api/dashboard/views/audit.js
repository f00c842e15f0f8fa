/*
 * Admin and Billing: the team's audit trail (GET /v1/teams/{teamId}/audit?order=newest, spec §15): who changed what
 * and when, with the values before and after, newest first. "Load more" follows the answer's cursor to older events;
 * each refresh asks only for what is newer than the newest shown (a whole page of newer events starts the list over).
 */
import { api, teamPath } from '../api.js';
import { $, h, setText, show } from '../dom.js';
import { formatDateTime, formatMoney, roleLabel } from '../format.js';
import { reportError } from '../notices.js';
import { session } from '../state.js';

const DEFAULT_PAGE_SIZE = 20;

/** `?auditPageSize=N` (1-500) in the page's address sets the page size, as `?pageSize=` does for the usage table. */
function pageSize() {
  const asked = Number(new URLSearchParams(location.search).get('auditPageSize'));
  return Number.isInteger(asked) && asked >= 1 && asked <= 500 ? asked : DEFAULT_PAGE_SIZE;
}

const ACTION_LABELS = {
  'team.created': 'Team created',
  'member.added': 'Member added',
  'member.changed': 'Member changed',
  'member.removed': 'Member removed',
  'token.issued': 'Token issued',
  'token.revoked': 'Token revoked',
  'payg.changed': 'Pay-as-you-go switched',
  'payg_cap.changed': 'Member PAYG cap changed',
  'team_payg_cap.changed': 'Team PAYG cap changed',
  'credits.purchased': 'Credits purchased',
  'plan.changed': 'Plan changed',
};

const FIELD_LABELS = {
  monthlyCapMinor: 'Monthly cap',
  enabled: 'Pay-as-you-go',
  email: 'Email',
  roles: 'Roles',
  plan: 'Plan',
  credits: 'Credits',
  amountMinor: 'Price',
  purchaseId: 'Purchase',
  paygThresholdMinor: 'Billing threshold',
  billingAnchorDay: 'Billing day',
  label: 'Label',
  owner: 'Owner',
  expiresAt: 'Expires',
  status: 'Status',
  revokedTokens: 'Tokens revoked',
};
/** Fields that say nothing a reader needs (ids repeated from the target, instants of the event itself, internals). */
const QUIET_FIELDS = new Set([
  'teamId',
  'userId',
  'tokenId',
  'createdAt',
  'revokedAt',
  'currency',
  'kind',
  'scope',
  'createdBy',
  'lastUsedAt',
]);

const trail = {
  /** Events shown, newest first (ids only grow, so id order is time order). */
  events: [],
  /** id → its list item (events never change, so an item is built once). */
  items: new Map(),
  nextCursor: null,
  /** Bumped whenever the list is started over: an older "load more" answer no longer fits it. */
  epoch: 0,
  loaded: false,
  loadingMore: false,
};

function auditPath(params) {
  const query = new URLSearchParams({ order: 'newest', limit: String(pageSize()), ...params });
  return teamPath(session.me) + '/audit?' + query.toString();
}

const validEvents = (data) =>
  (Array.isArray(data && data.events) ? data.events : []).filter((e) => e && Number.isSafeInteger(e.id));

/** The first page, or what is newer than the newest event shown. */
export async function loadAudit() {
  const epoch = trail.epoch;
  const newest = trail.events.length ? trail.events[0].id : null;
  const { data } = await api('GET', auditPath(newest === null ? {} : { after: String(newest) }));
  if (epoch !== trail.epoch || !session.me) return;
  const events = validEvents(data);
  const nextCursor = typeof data.nextCursor === 'string' ? data.nextCursor : null;
  if (newest === null || nextCursor !== null) {
    // The first page; or more news than a page: the list starts over from the newest (older ones via "load more").
    trail.epoch++;
    trail.events = [];
    trail.nextCursor = nextCursor;
  }
  merge(events);
  trail.loaded = true;
  render();
}

async function loadMore() {
  if (trail.loadingMore || !trail.nextCursor) return;
  const epoch = trail.epoch;
  trail.loadingMore = true;
  setMoreBusy(true);
  try {
    const { data } = await api('GET', auditPath({ cursor: trail.nextCursor }));
    if (epoch !== trail.epoch) return;
    merge(validEvents(data));
    trail.nextCursor = typeof data.nextCursor === 'string' ? data.nextCursor : null;
    render();
  } catch (err) {
    reportError(err, 'action');
  } finally {
    trail.loadingMore = false;
    setMoreBusy(false);
  }
}

/** Adds events to the list, each once, newest first. */
function merge(events) {
  const byId = new Map(trail.events.map((e) => [e.id, e]));
  for (const e of events) byId.set(e.id, e);
  trail.events = [...byId.values()].sort((a, b) => b.id - a.id);
}

function setMoreBusy(busy) {
  const button = $('audit-more');
  button.setAttribute('aria-disabled', busy ? 'true' : 'false');
  setText(button, busy ? 'Loading…' : 'Load more');
}

function render() {
  show($('audit-loading'), false);
  const list = $('audit-list');
  const shown = new Set(trail.events.map((e) => e.id));
  for (const [id, item] of trail.items) {
    if (!shown.has(id)) {
      item.remove();
      trail.items.delete(id);
    }
  }
  trail.events.forEach((e, index) => {
    let item = trail.items.get(e.id);
    if (!item) {
      item = eventItem(e);
      trail.items.set(e.id, item);
    }
    if (list.children[index] !== item) list.insertBefore(item, list.children[index] || null);
  });
  show(list, trail.events.length > 0);
  show($('audit-empty'), trail.events.length === 0);
  show($('audit-more'), trail.nextCursor !== null);
}

function eventItem(e) {
  const action = String(e.action);
  const changes = describeChanges(e.before, e.after);
  return h(
    'li',
    { class: 'audit-event', dataset: { testid: 'audit-event-' + e.id, action } },
    h(
      'p',
      { class: 'audit-event__head' },
      h('span', { class: 'tag tag--audit', dataset: { testid: 'audit-action' } }, ACTION_LABELS[action] || action),
      h('span', { class: 'audit-event__target', dataset: { testid: 'audit-target' } }, targetText(e.target)),
    ),
    changes.length
      ? h(
          'ul',
          { class: 'audit-event__changes', dataset: { testid: 'audit-change' } },
          ...changes.map((c) =>
            h(
              'li',
              null,
              h('span', { class: 'audit-event__field' }, c.label + ': '),
              c.before === undefined ? c.after : h('span', null, c.before, ' → ', c.after),
            ),
          ),
        )
      : null,
    h(
      'p',
      { class: 'audit-event__meta hint' },
      'by ',
      h('span', { dataset: { testid: 'audit-actor' } }, actorText(e)),
      ' · ',
      h('time', { datetime: String(e.at), dataset: { testid: 'audit-time' } }, formatDateTime(e.at)),
    ),
  );
}

function actorText(e) {
  if (typeof e.actorUserId === 'string' && e.actorUserId) return e.actorUserId;
  if (e.actor === 'provisioning') return 'provisioning';
  if (e.actor === 'system') return 'the service';
  return 'token ' + String(e.actor);
}

function targetText(target) {
  const text = String(target || '');
  const colon = text.indexOf(':');
  const kind = colon < 0 ? '' : text.slice(0, colon);
  const id = colon < 0 ? text : text.slice(colon + 1);
  if (kind === 'member') return 'Member ' + id;
  if (kind === 'token') return 'Token ' + id;
  if (kind === 'team') return 'Team ' + id;
  return text;
}

/**
 * before → after, field by field: [{ label, before?, after }] ("Monthly cap: none → $25.00"). A field only after
 * (something created) has no `before`; one only before (removed) shows "—" after it.
 */
function describeChanges(before, after) {
  const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (!isObject(before) && !isObject(after)) return [];
  const b = isObject(before) ? before : null;
  const a = isObject(after) ? after : null;
  const keys = [...new Set([...Object.keys(b || {}), ...Object.keys(a || {})])].filter((k) => !QUIET_FIELDS.has(k));
  const changes = [];
  for (const key of keys) {
    const was = b ? b[key] : undefined;
    const now = a ? a[key] : undefined;
    if (b && a && JSON.stringify(was) === JSON.stringify(now)) continue;
    const label = FIELD_LABELS[key] || key;
    if (!b) {
      // Something created: what it was created with (an empty field says nothing).
      if (now !== null && now !== undefined) changes.push({ label, after: valueText(key, now) });
    } else if (!a) changes.push({ label, before: valueText(key, was), after: '—' });
    else changes.push({ label, before: valueText(key, was), after: valueText(key, now) });
  }
  return changes;
}

function valueText(key, value) {
  if (key.endsWith('Minor')) {
    if (value === null || value === undefined) return 'none';
    if (Number.isSafeInteger(value)) return formatMoney({ amountMinor: value, currency: session.currency || 'USD' });
  }
  if (value === null || value === undefined) return '—';
  if (key === 'enabled' && typeof value === 'boolean') return value ? 'on' : 'off';
  if (key === 'roles' && Array.isArray(value)) return value.length ? value.map(roleLabel).join(', ') : 'no roles';
  if (key === 'expiresAt' && typeof value === 'string') return formatDateTime(value);
  if (Array.isArray(value)) return value.map(String).join(', ');
  if (typeof value === 'object') {
    if (typeof value.userId === 'string') return value.userId;
    if (typeof value.service === 'string') return value.service + ' service';
    return JSON.stringify(value);
  }
  return String(value);
}

/** Wires "Load more" once, at page load. */
export function initAudit() {
  $('audit-more').addEventListener('click', () => {
    if ($('audit-more').getAttribute('aria-disabled') === 'true') return;
    void loadMore();
  });
}

/** A new session (or new roles): nothing of the last trail stays. */
export function resetAudit() {
  trail.epoch++;
  trail.events = [];
  trail.nextCursor = null;
  trail.loaded = false;
  trail.loadingMore = false;
  for (const item of trail.items.values()) item.remove();
  trail.items.clear();
  setMoreBusy(false);
  show($('audit-more'), false);
  show($('audit-list'), false);
  show($('audit-empty'), false);
  show($('audit-loading'), true);
}

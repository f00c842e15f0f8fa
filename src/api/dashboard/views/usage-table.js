/*
 * Admin and Billing: the team's usage table ("AI credit details"), a page at a time from
 * GET /v1/teams/{teamId}/usage?limit=&cursor=&q=, with a search box, Previous / Next, and "Export CSV", which walks
 * every page of the current search and downloads the file built in the page (a Blob: no inline script, CSP-safe).
 */
import { api, teamPath } from '../api.js';
import { usageCsv } from '../csv.js';
import { $, h, setText, show } from '../dom.js';
import { capitalize, formatDate, formatMoney, rememberCurrency } from '../format.js';
import { reportError, showNotice } from '../notices.js';
import { isBilling, session } from '../state.js';
import { openDetails } from './member-details.js';
import { editMemberCap, openBuy, togglePayg } from './member-actions.js';
import { createMemberView, setPeriod } from './member-view.js';

const PAGE_SIZES = [10, 25, 50, 100, 500];
const DEFAULT_PAGE_SIZE = 50;
/** The API's largest page: the export asks for as few pages as it can. */
const EXPORT_PAGE_SIZE = 500;
const SEARCH_DEBOUNCE_MS = 300;

const table = {
  /** userId → row view of the page shown */
  views: new Map(),
  limit: DEFAULT_PAGE_SIZE,
  q: '',
  /** The cursor that opens each page visited so far (null: the first page); `page` indexes it. */
  cursors: [null],
  page: 0,
  nextCursor: null,
  /** `{ plan, from }` of a downgrade waiting for the next billing date, or null. */
  pendingPlan: null,
  /** Bumped by every load: an answer to an older search or page is dropped. */
  loadSeq: 0,
  exporting: null,
};

/** `?pageSize=N` (1-500) in the page's address sets the page size, for people and tests who want another. */
function initialPageSize() {
  const asked = Number(new URLSearchParams(location.search).get('pageSize'));
  return Number.isInteger(asked) && asked >= 1 && asked <= 500 ? asked : DEFAULT_PAGE_SIZE;
}

function usagePath(limit, cursor, q) {
  const params = new URLSearchParams({ limit: String(limit) });
  if (cursor) params.set('cursor', cursor);
  if (q) params.set('q', q);
  return teamPath(session.me) + '/usage?' + params.toString();
}

/** Loads the page shown (with the current search) and draws it. */
export async function loadUsageTable() {
  const seq = ++table.loadSeq;
  const startSeq = session.mutationSeq;
  const { limit, q, page } = table;
  const { data } = await api('GET', usagePath(limit, table.cursors[page], q));
  if (seq !== table.loadSeq) return;
  const members = Array.isArray(data.members) ? data.members.filter((m) => m && typeof m.userId === 'string') : [];
  if (members.length === 0 && page > 0) {
    // The members of this page left meanwhile: start again from the first page.
    goToPage(0);
    return loadUsageTable();
  }
  session.plan = typeof data.plan === 'string' ? data.plan : null;
  if (data.planTerms) {
    rememberCurrency(data.planTerms);
    session.currency = data.planTerms.currency;
  }
  // A downgrade waiting for the next billing date.
  table.pendingPlan =
    data.pendingPlan && typeof data.pendingPlan.plan === 'string' && typeof data.pendingPlan.from === 'string'
      ? data.pendingPlan
      : null;
  table.nextCursor = typeof data.nextCursor === 'string' ? data.nextCursor : null;
  renderRows(members, startSeq);
  renderPager(members.length);
  renderSummary(members);
}

function renderRows(members, startSeq) {
  const canManage = isBilling(session.me);
  const body = $('members-body');
  show($('team-loading'), false);
  show($('team-empty'), members.length === 0);
  setText($('team-empty'), table.q ? 'No members match “' + table.q + '”.' : 'No members yet');
  show($('team-table-wrap'), members.length > 0);
  show($('team-legend'), members.length > 0);
  $('members-table').classList.toggle('members--manage', canManage);

  const seen = new Set(members.map((m) => m.userId));
  for (const [userId, view] of table.views) {
    if (!seen.has(userId)) {
      view.el.remove();
      table.views.delete(userId);
    }
  }
  members.forEach((m, index) => {
    let view = table.views.get(m.userId);
    if (!view || view.canManage !== canManage) {
      if (view) view.el.remove();
      view = createMemberView(m.userId, {
        layout: 'row',
        canManage,
        onTogglePayg: togglePayg,
        onBuy: openBuy,
        onEditCap: editMemberCap,
        onDetails: (v) => openDetails(v).catch((err) => reportError(err, 'action')),
      });
      table.views.set(m.userId, view);
    }
    view.setMember(m);
    // A toggle or purchase that started or finished after this load began is newer than this answer.
    if (!view.pending && view.lastMutation <= startSeq) view.setBalance(m.balance);
    if (body.children[index] !== view.el) body.insertBefore(view.el, body.children[index] || null);
  });

  // Period: one line for the team, or per member when they differ (e.g. around a renewal).
  const balances = [...table.views.values()].map((v) => v.balance).filter(Boolean);
  const periods = new Set(balances.map((b) => b.periodStart + '|' + b.periodEnd));
  const varies = periods.size > 1;
  for (const v of table.views.values()) v.setPeriodVisible(varies);
  if (varies) {
    const el = $('team-period');
    el.dataset.key = 'varies';
    el.replaceChildren('Billing periods differ between members; see each member.');
  } else {
    setPeriod($('team-period'), balances[0]);
  }
}

function renderPager(shown) {
  const first = table.page * table.limit + 1;
  const onlyPage = table.page === 0 && !table.nextCursor;
  show($('pager'), !onlyPage);
  setText($('page-info'), shown ? 'Members ' + first + '–' + (first + shown - 1) + ' · page ' + (table.page + 1) : '');
  setDisabled($('page-prev'), table.page === 0);
  setDisabled($('page-next'), !table.nextCursor);
}

/** aria-disabled keeps the button focusable (a disabled button under the keyboard's focus drops it). */
function setDisabled(button, disabled) {
  button.setAttribute('aria-disabled', disabled ? 'true' : 'false');
}

function renderSummary(members) {
  const balances = members.map((m) => m.balance).filter(Boolean);
  const paused = balances.filter((b) => b.paused).length;
  const parts = [];
  if (session.plan) parts.push(capitalize(session.plan) + ' plan');
  if (table.pendingPlan) {
    parts.push(capitalize(table.pendingPlan.plan) + ' plan from ' + formatDate(table.pendingPlan.from));
  }
  const whole = table.page === 0 && !table.nextCursor;
  if (whole) {
    const one = members.length === 1;
    const matching = table.q ? (one ? ' matches “' : ' match “') + table.q + '”' : '';
    parts.push(members.length + (one ? ' member' : ' members') + matching);
    if (members.length) parts.push(paused + ' paused');
    // The PAYG total of the whole team is only known when the whole team is on this page.
    let chargeMinor = 0;
    let currency = null;
    let mixed = false;
    for (const b of balances) {
      const c = b.paygCharge;
      if (!c || !Number.isSafeInteger(c.amountMinor)) continue;
      if (currency !== null && c.currency !== currency) mixed = true;
      currency = c.currency;
      chargeMinor += c.amountMinor;
    }
    if (!table.q && currency !== null && !mixed)
      parts.push('PAYG charges this period ' + formatMoney({ amountMinor: chargeMinor, currency }));
  } else {
    parts.push(table.q ? 'Members matching “' + table.q + '”' : 'Members by user id');
    parts.push(paused + ' paused on this page');
  }
  setText($('team-summary'), parts.join(' · '));
}

function goToPage(page) {
  table.page = page;
  table.cursors.length = page + 1;
}

/** Loads after a paging or search change; failures show in the banner like a refresh's. */
function reload() {
  return loadUsageTable().catch((err) => reportError(err, 'refresh'));
}

// ---- export ----

async function exportCsv() {
  if (table.exporting) return;
  const gen = session.gen;
  const button = $('export-csv');
  const status = $('export-status');
  const q = table.q;
  table.exporting = { gen };
  setDisabled(button, true);
  button.setAttribute('aria-busy', 'true');
  try {
    const members = [];
    const seen = new Set();
    let cursor = null;
    for (;;) {
      setText(status, 'Exporting… ' + members.length + ' members so far');
      const { data } = await api('GET', usagePath(EXPORT_PAGE_SIZE, cursor, q));
      if (gen !== session.gen) return;
      members.push(...(Array.isArray(data.members) ? data.members : []));
      cursor = typeof data.nextCursor === 'string' ? data.nextCursor : null;
      if (!cursor) break;
      // A cursor seen before would loop forever: the list is ordered by user id, so that is a server fault.
      if (seen.has(cursor)) throw new Error('The usage list repeated a page; the export stopped.');
      seen.add(cursor);
    }
    const period = members[0]?.balance?.periodStart?.slice(0, 10) ?? new Date().toISOString().slice(0, 10);
    const file = 'ai-credits-usage-' + session.me.teamId + '-' + period + (q ? '-search' : '') + '.csv';
    download(file, usageCsv(members));
    setText(status, '');
    showNotice('Exported ' + members.length + (members.length === 1 ? ' member' : ' members') + ' to ' + file + '.');
  } catch (err) {
    if (gen !== session.gen) return;
    setText(status, '');
    reportError(err, 'action');
  } finally {
    if (gen === session.gen) {
      table.exporting = null;
      setDisabled(button, false);
      button.removeAttribute('aria-busy');
    }
  }
}

function download(fileName, text) {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }));
  const link = h('a', { href: url, download: fileName, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  // The download has started from the URL by now; a later revoke frees the Blob.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

// ---- wiring ----

/** Wires the controls once, at page load. */
export function initUsageTable() {
  table.limit = initialPageSize();
  const select = $('page-size');
  const sizes = [...new Set([...PAGE_SIZES, table.limit])].sort((a, b) => a - b);
  select.replaceChildren(
    ...sizes.map((n) => h('option', { value: String(n), selected: n === table.limit }, String(n))),
  );
  select.addEventListener('change', () => {
    table.limit = Number(select.value);
    goToPage(0);
    void reload();
  });

  let debounce = null;
  const search = $('member-search');
  const applySearch = () => {
    clearTimeout(debounce);
    const q = search.value.trim().slice(0, 100);
    if (q === table.q) return;
    table.q = q;
    goToPage(0);
    void reload();
  };
  search.addEventListener('input', () => {
    clearTimeout(debounce);
    debounce = setTimeout(applySearch, SEARCH_DEBOUNCE_MS);
  });
  $('search-form').addEventListener('submit', (event) => {
    event.preventDefault();
    applySearch();
  });

  $('page-prev').addEventListener('click', () => {
    if (table.page === 0) return;
    goToPage(table.page - 1);
    void reload();
  });
  $('page-next').addEventListener('click', () => {
    if (!table.nextCursor) return;
    const next = table.nextCursor;
    goToPage(table.page + 1);
    table.cursors[table.page] = next;
    void reload();
  });
  $('export-csv').addEventListener('click', () => void exportCsv());
}

/** A new session (or new roles): an empty table on its first page, the search kept as typed. */
export function resetUsageTable() {
  table.loadSeq++;
  for (const v of table.views.values()) v.el.remove();
  table.views.clear();
  table.exporting = null;
  setDisabled($('export-csv'), false);
  setText($('export-status'), '');
  goToPage(0);
  table.nextCursor = null;
  table.q = '';
  $('member-search').value = '';
  show($('team-loading'), true);
  show($('team-empty'), false);
  show($('team-table-wrap'), false);
  show($('team-legend'), false);
  show($('pager'), false);
  setText($('team-summary'), '');
  setPeriod($('team-period'), null);
}

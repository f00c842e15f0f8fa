/*
 * One member's period in detail: their card (GET …/credits: balance, plan, notices sent) and their credits per day
 * (GET …/usage/daily) as a chart with the 75 % and 100 % lines and the projection. A member sees their own; Admin
 * and Billing open anyone's from the usage table ("Usage per day").
 */
import { api, ApiError, memberPath } from '../api.js';
import { $, setText, show } from '../dom.js';
import { NOTICE_LABELS, capitalize, rememberCurrency } from '../format.js';
import { memberChartModel } from '../chart-data.js';
import { session } from '../state.js';
import { createChart } from './charts.js';
import { createMemberView, setPeriod } from './member-view.js';

/**
 * A member's card and chart in `cardEl` and `chartEl`. `member` is { userId, email, roles } as far as known (a
 * member's credits do not carry their email). `testIdPrefix` tells the card's test ids from the table row's.
 */
export function createMemberDetails({ cardEl, chartEl, member, testIdPrefix = '', chartTestId }) {
  const view = createMemberView(member.userId, { layout: 'card', canManage: false, testIdPrefix });
  view.setMember(member);
  cardEl.replaceChildren(view.el);
  const chart = createChart(chartEl, {
    testId: chartTestId,
    label: 'Credits used per day this billing period, against 75 % and 100 % of the credits, with the projection',
  });
  let loadSeq = 0;

  return {
    userId: member.userId,
    view,
    setMember: (m) => view.setMember(m),
    /** Fetches both answers; renders what came back, then rejects with the first failure if any. */
    async load() {
      const seq = ++loadSeq;
      chart.loading();
      const base = memberPath(session.me, member.userId);
      const [credits, daily] = await Promise.allSettled([
        api('GET', base + '/credits'),
        api('GET', base + '/usage/daily'),
      ]);
      if (seq !== loadSeq) return null;
      if (credits.status === 'fulfilled') {
        const data = credits.value.data;
        session.plan = typeof data.plan === 'string' ? data.plan : session.plan;
        if (data.planTerms) {
          rememberCurrency(data.planTerms);
          session.currency = data.planTerms.currency;
        }
        view.setBalance(data.balance);
        setText(view.planEl, data.plan ? capitalize(data.plan) : '—');
        const sent = Array.isArray(data.notificationsSent) ? data.notificationsSent : [];
        setText(view.noticesEl, sent.length ? sent.map((k) => NOTICE_LABELS[k] || k).join(', ') : 'None');
        if (daily.status === 'fulfilled') chart.member(memberChartModel(daily.value.data, data.balance), data.balance);
      }
      const failed = [credits, daily].find((r) => r.status === 'rejected');
      if (failed) {
        chart.error('The chart could not be loaded: ' + ((failed.reason && failed.reason.message) || 'unknown error'));
        throw failed.reason;
      }
      return credits.value.data.balance;
    },
    destroy() {
      loadSeq++;
      chart.destroy();
      cardEl.replaceChildren();
    },
  };
}

// ---- A member's own view (no Admin or Billing role) ----

let self = null;

export async function loadSelf() {
  const me = session.me;
  if (!self || self.userId !== me.userId) {
    self?.destroy();
    self = createMemberDetails({
      cardEl: $('self-card'),
      chartEl: $('self-chart'),
      member: { userId: me.userId, email: '', roles: me.roles },
      chartTestId: 'member-chart',
    });
  }
  self.setMember({ userId: me.userId, email: '', roles: me.roles });
  try {
    const balance = await self.load();
    if (balance) setPeriod($('self-period'), balance);
  } finally {
    show($('self-loading'), false);
  }
}

// ---- Admin and Billing: the details panel of one member of the table ----

let details = null;
let detailsOpener = null;

/** Opens (or switches) the panel for the member of a table row; returns its first load. */
export function openDetails(rowView) {
  const member = rowView.member || { userId: rowView.userId, email: '', roles: [] };
  if (detailsOpener && detailsOpener !== rowView) detailsOpener.setExpanded(false);
  detailsOpener = rowView;
  rowView.setExpanded(true);
  if (!details || details.userId !== member.userId) {
    details?.destroy();
    details = createMemberDetails({
      cardEl: $('details-card'),
      chartEl: $('details-chart'),
      member,
      testIdPrefix: 'details-',
      chartTestId: 'details-chart',
    });
  }
  setText($('details-title'), 'Usage per day: ' + ((member.email || member.userId) + ''));
  show($('details-section'), true);
  $('details-section').scrollIntoView({ block: 'nearest' });
  $('details-title').focus();
  return details.load();
}

/** The open panel's member, if any, is reloaded with the rest of the page; one who left the team closes it. */
export async function loadDetails() {
  if (!details) return null;
  try {
    return await details.load();
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 404)) throw err;
    closeDetails({ restoreFocus: false });
    return null;
  }
}

export function closeDetails({ restoreFocus = true } = {}) {
  show($('details-section'), false);
  details?.destroy();
  details = null;
  if (detailsOpener) {
    detailsOpener.setExpanded(false);
    if (restoreFocus && detailsOpener.el.isConnected) detailsOpener.focusDetails();
  }
  detailsOpener = null;
}

/** Sign-out or a change of role: nothing of the last session stays on the page. */
export function resetMemberDetails() {
  closeDetails({ restoreFocus: false });
  self?.destroy();
  self = null;
}

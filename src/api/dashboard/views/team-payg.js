/*
 * Admin and Billing: the team's pay-as-you-go charges per day this period, against its threshold and cap, and the
 * team's monthly PAYG cap (spec §15) in words: shown to both, changed by Billing (cap-dialog.js).
 */
import { api, teamPath } from '../api.js';
import { $, setText, show } from '../dom.js';
import { teamChartModel } from '../chart-data.js';
import { formatMoney } from '../format.js';
import { reportError } from '../notices.js';
import { isBilling, session } from '../state.js';
import { openCapDialog } from './cap-dialog.js';
import { createChart } from './charts.js';

let chart = null;
let loadSeq = 0;
/** The team's cap as last answered ({ amountMinor, currency } or null), and the currency of its charges. */
const team = { cap: null, currency: null, known: false };

export async function loadTeamPayg() {
  chart ??= createChart($('team-chart'), {
    testId: 'team-chart',
    label: "The team's pay-as-you-go charges per day this billing period, against its threshold and cap",
  });
  const seq = ++loadSeq;
  chart.loading();
  try {
    const { data } = await api('GET', teamPath(session.me) + '/usage/daily');
    if (seq !== loadSeq) return;
    const model = teamChartModel(data);
    showTeamCap(data.paygCap || null, model.currency);
    chart.team(model);
  } catch (err) {
    if (seq === loadSeq) chart.error('The chart could not be loaded: ' + ((err && err.message) || 'unknown error'));
    throw err;
  }
}

function showTeamCap(cap, currency) {
  team.cap = cap && Number.isSafeInteger(cap.amountMinor) ? cap : null;
  team.currency = currency;
  team.known = true;
  const text = team.cap
    ? 'Team cap on pay-as-you-go: ' + formatMoney(team.cap) + ' a month'
    : 'No team cap on pay-as-you-go';
  setText($('team-cap'), text);
  $('team-cap').dataset.capMinor = team.cap ? String(team.cap.amountMinor) : '';
  const edit = $('team-cap-edit');
  show(edit, isBilling(session.me));
  setText(edit, team.cap ? 'Change team cap' : 'Set team cap');
}

function editTeamCap() {
  if (!team.known || !isBilling(session.me)) return;
  openCapDialog({
    title: "The team's monthly pay-as-you-go cap",
    description:
      "The team's pay-as-you-go charges in a billing period, all members together, stop at the cap: an action that " +
      'would pass it is refused, and Billing gets one email when it is reached.',
    who: 'the team',
    current: team.cap,
    currency: team.currency || session.currency || 'USD',
    path: teamPath(session.me) + '/payg-cap',
    bodyOf: (capMinor) => ({ monthlyCapMinor: capMinor }),
    applied: (data) => {
      showTeamCap(data.monthlyCap || null, team.currency);
      // The chart draws the cap too.
      loadTeamPayg().catch((err) => reportError(err, 'refresh'));
    },
    focusBack: () => $('team-cap-edit').focus(),
  });
}

/** Wires the team cap's button once, at page load. */
export function initTeamPayg() {
  $('team-cap-edit').addEventListener('click', () => editTeamCap());
}

export function resetTeamPayg() {
  loadSeq++;
  chart?.destroy();
  chart = null;
  team.cap = null;
  team.currency = null;
  team.known = false;
  setText($('team-cap'), '');
  show($('team-cap-edit'), false);
}

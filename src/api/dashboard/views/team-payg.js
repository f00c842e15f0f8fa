/* Admin and Billing: the team's pay-as-you-go charges per day this period, against its threshold and cap. */
import { api, teamPath } from '../api.js';
import { $ } from '../dom.js';
import { teamChartModel } from '../chart-data.js';
import { session } from '../state.js';
import { createChart } from './charts.js';

let chart = null;
let loadSeq = 0;

export async function loadTeamPayg() {
  chart ??= createChart($('team-chart'), {
    testId: 'team-chart',
    label: "The team's pay-as-you-go charges per day this billing period, against its threshold and cap",
  });
  const seq = ++loadSeq;
  chart.loading();
  try {
    const { data } = await api('GET', teamPath(session.me) + '/usage/daily');
    if (seq === loadSeq) chart.team(teamChartModel(data));
  } catch (err) {
    if (seq === loadSeq) chart.error('The chart could not be loaded: ' + ((err && err.message) || 'unknown error'));
    throw err;
  }
}

export function resetTeamPayg() {
  loadSeq++;
  chart?.destroy();
  chart = null;
}

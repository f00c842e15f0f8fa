/*
 * What the charts draw, computed from the API's answers: pure, no DOM, no charting library.
 *
 * Sums, thresholds and the projection are exact (BigInt millicredits, integer minor units); only the series handed
 * to the chart are floats, for plotting.
 */
import { milliToPlot, minorToPlot, toMilli } from './format.js';

const DAY_MS = 86_400_000;

/** Every UTC day of a period, "YYYY-MM-DD", from its first day to the day before its end. */
export function periodDays(periodStart, periodEnd) {
  const start = Date.parse(periodStart);
  const end = Date.parse(periodEnd);
  const days = [];
  if (Number.isNaN(start) || Number.isNaN(end)) return days;
  for (let t = start; t < end && days.length < 32; t += DAY_MS) days.push(new Date(t).toISOString().slice(0, 10));
  return days;
}

/** Running totals of `values` (BigInt or number), one per day up to the last reported day, null after it. */
function runningTotals(values, reported, zero) {
  let sum = zero;
  return values.map((v, i) => {
    if (i >= reported) return null;
    sum += v;
    return sum;
  });
}

/**
 * A member's period: credits used per day (and PAYG per day), the running total against 75 % and 100 % of their
 * credits (allowance + purchases, from GET …/credits), and when 100 % is reached at the current pace.
 *
 * The pace is the credits used so far over the days begun (today counts as a whole day), so the projection never
 * runs ahead of what a full day at the same rate would use. Result `reach`:
 * - `{ kind: 'none' }`: nothing used yet;
 * - `{ kind: 'reached', day }`: 100 % was reached on that day;
 * - `{ kind: 'projected', day, perDayMilli }`: at the current pace, 100 % is reached on that day;
 * - `{ kind: 'lasts', perDayMilli }`: at the current pace, the credits last to the period's end.
 */
export function memberChartModel(daily, balance) {
  const days = periodDays(daily.periodStart, daily.periodEnd);
  const byDay = new Map((daily.days || []).map((d) => [d.date, d]));
  const reported = Math.min(days.length, (daily.days || []).length);
  const used = days.map((day) => toMilli(byDay.get(day)?.used ?? '0') ?? 0n);
  const payg = days.map((day) => toMilli(byDay.get(day)?.paygCredits ?? '0') ?? 0n);
  const cumulative = runningTotals(used, reported, 0n);
  const total = (toMilli(balance.allowance) ?? 0n) + (toMilli(balance.purchased) ?? 0n);
  const usedSoFar = reported > 0 ? cumulative[reported - 1] : 0n;
  const paygSoFar = payg.reduce((a, b) => a + b, 0n);

  let reach = { kind: 'none' };
  let projection = days.map(() => null);
  if (usedSoFar > 0n && total > 0n) {
    const perDayMilli = usedSoFar / BigInt(reported);
    const reachedAt = cumulative.findIndex((c) => c !== null && c >= total);
    if (reachedAt >= 0) reach = { kind: 'reached', day: days[reachedAt] };
    else {
      // The first day whose end sees used × (day + 1) / reported ≥ total (days counted from the period's start).
      const needed = Number((total * BigInt(reported) + usedSoFar - 1n) / usedSoFar);
      const last = Math.min(needed, days.length) - 1;
      reach =
        needed <= days.length
          ? { kind: 'projected', day: days[needed - 1], perDayMilli }
          : { kind: 'lasts', perDayMilli };
      const usedPlot = milliToPlot(usedSoFar);
      projection = days.map((_, i) => (i >= reported - 1 && i <= last ? (usedPlot * (i + 1)) / reported : null));
    }
  }
  return {
    days,
    empty: usedSoFar === 0n && paygSoFar === 0n,
    total,
    usedSoFar,
    paygSoFar,
    reach,
    series: {
      used: used.map((v, i) => (i < reported ? milliToPlot(v) : null)),
      payg: payg.map((v, i) => (i < reported ? milliToPlot(v) : null)),
      cumulative: cumulative.map((c) => (c === null ? null : milliToPlot(c))),
      line75: days.map(() => milliToPlot((total * 3n) / 4n)),
      line100: days.map(() => milliToPlot(total)),
      projection,
    },
  };
}

/** A team's period: PAYG charges per day and so far, against the team's PAYG threshold and cap (when set). */
export function teamChartModel(daily) {
  const days = periodDays(daily.periodStart, daily.periodEnd);
  const byDay = new Map((daily.days || []).map((d) => [d.date, d]));
  const reported = Math.min(days.length, (daily.days || []).length);
  const charge = days.map((day) => byDay.get(day)?.paygCharge?.amountMinor ?? 0);
  const cumulative = runningTotals(charge, reported, 0);
  const chargedMinor = reported > 0 ? cumulative[reported - 1] : 0;
  const paygCredits = toMilli(daily.total?.paygCredits ?? '0') ?? 0n;
  const currency = daily.total?.paygCharge?.currency ?? daily.paygThreshold?.currency ?? 'USD';
  const threshold = daily.paygThreshold ? daily.paygThreshold.amountMinor : null;
  const cap = daily.paygCap ? daily.paygCap.amountMinor : null;
  return {
    days,
    empty: paygCredits === 0n,
    chargedMinor,
    currency,
    threshold,
    cap,
    series: {
      charge: charge.map((v, i) => (i < reported ? minorToPlot(v, currency) : null)),
      cumulative: cumulative.map((c) => (c === null ? null : minorToPlot(c, currency))),
      threshold: threshold === null ? null : days.map(() => minorToPlot(threshold, currency)),
      cap: cap === null ? null : days.map(() => minorToPlot(cap, currency)),
    },
  };
}

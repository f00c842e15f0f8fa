/**
 * Billing periods (spec §5). Pure and deterministic: safe to import from Temporal workflow code and from Node.
 *
 * All instants are epoch milliseconds (UTC). A period runs from one billing date (inclusive) to the next
 * (exclusive). The billing date of a month is 00:00:00.000 UTC on the anchor day, clamped to the last day of
 * that month; each month is clamped on its own, so anchor 31 gives 31 Jan → 29 Feb → 31 Mar → 30 Apr, never
 * drifting to 29 Mar.
 *
 * Only `Date.UTC` and `new Date(ms)` with an explicit argument are used; both are deterministic.
 */

export interface BillingPeriod {
  /** Inclusive, epoch ms UTC. */
  start: number;
  /** Exclusive, epoch ms UTC. */
  end: number;
}

/** Largest absolute instant a JavaScript Date can represent (±100,000,000 days around the epoch). */
const MAX_DATE_MS = 8.64e15;

/** Throws unless `day` is an integer anchor day 1..31. */
export function assertAnchorDay(day: unknown): asserts day is number {
  if (typeof day !== 'number' || !Number.isInteger(day) || day < 1 || day > 31) {
    throw new Error(`billing anchor day must be an integer from 1 to 31, got ${describe(day)}`);
  }
}

/** Number of days in a month (UTC); `monthIndex0` is 0-based and may be outside 0..11 (it rolls over years). */
export function daysInMonth(year: number, monthIndex0: number): number {
  // Day 0 of the following month is the last day of this month.
  return new Date(Date.UTC(year, monthIndex0 + 1, 0)).getUTCDate();
}

/**
 * 00:00:00.000 UTC of the anchor day in the given month, clamped to the month's last day.
 * `monthIndex0` is 0-based; values outside 0..11 roll over into neighbouring years (-1 = December of year-1).
 */
export function anchorDateInMonth(year: number, monthIndex0: number, anchorDay: number): number {
  assertAnchorDay(anchorDay);
  if (!Number.isInteger(year) || !Number.isInteger(monthIndex0)) {
    throw new Error(`year and month index must be integers, got ${describe(year)} and ${describe(monthIndex0)}`);
  }
  // Normalise the month first so that clamping looks at the right month.
  const y = year + Math.floor(monthIndex0 / 12);
  const m = ((monthIndex0 % 12) + 12) % 12;
  const day = Math.min(anchorDay, daysInMonth(y, m));
  const ms = Date.UTC(y, m, day);
  if (Number.isNaN(ms)) {
    throw new Error(`billing date out of range: year ${y}, month index ${m}`);
  }
  return ms;
}

/** The billing period that contains `instantMs`. An instant exactly at a billing date starts that period. */
export function periodContaining(instantMs: number, anchorDay: number): BillingPeriod {
  assertAnchorDay(anchorDay);
  assertInstant(instantMs);
  const d = new Date(instantMs);
  const year = d.getUTCFullYear();
  const month = d.getUTCMonth();
  const billingDateThisMonth = anchorDateInMonth(year, month, anchorDay);
  if (instantMs >= billingDateThisMonth) {
    return { start: billingDateThisMonth, end: anchorDateInMonth(year, month + 1, anchorDay) };
  }
  return { start: anchorDateInMonth(year, month - 1, anchorDay), end: billingDateThisMonth };
}

/** The period immediately after `p`; throws if `p` is not a billing period for `anchorDay`. */
export function nextPeriod(p: BillingPeriod, anchorDay: number): BillingPeriod {
  assertPeriodFor(p, anchorDay);
  return periodContaining(p.end, anchorDay);
}

/** The period immediately before `p`; throws if `p` is not a billing period for `anchorDay`. */
export function previousPeriod(p: BillingPeriod, anchorDay: number): BillingPeriod {
  assertPeriodFor(p, anchorDay);
  return periodContaining(p.start - 1, anchorDay);
}

/** ISO calendar date (UTC) of the period start, e.g. `2024-02-29`. Used in idempotency keys and the ledger. */
export function periodKey(p: BillingPeriod): string {
  assertInstant(p.start);
  const d = new Date(p.start);
  const y = d.getUTCFullYear();
  const yyyy = y >= 0 && y <= 9999 ? pad(y, 4) : (y < 0 ? '-' : '+') + pad(Math.abs(y), 6);
  return `${yyyy}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}`;
}

function assertPeriodFor(p: BillingPeriod, anchorDay: number): void {
  assertAnchorDay(anchorDay);
  const expected = periodContaining(p.start, anchorDay);
  if (expected.start !== p.start || expected.end !== p.end) {
    throw new Error(
      `not a billing period for anchor day ${anchorDay}: start ${p.start}, end ${p.end} ` +
        `(expected start ${expected.start}, end ${expected.end})`,
    );
  }
}

function assertInstant(ms: unknown): asserts ms is number {
  if (typeof ms !== 'number' || !Number.isInteger(ms) || Math.abs(ms) > MAX_DATE_MS) {
    throw new Error(
      `instant must be an integer number of epoch milliseconds within the Date range, got ${describe(ms)}`,
    );
  }
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint' || v == null) return String(v);
  return typeof v;
}

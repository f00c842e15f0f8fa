/*
 * Pure formatting and credit arithmetic: no DOM, no network.
 *
 * Credits arrive as decimal strings ("12.5"). Arithmetic on them is done on BigInt millicredits (split on ".", pad
 * to 3 digits); floats appear only where something is drawn (a bar's width, a chart's points). Money arrives as
 * integer minor units and is formatted with string operations (2 decimals).
 */

/** The server's credits grammar (workflows/domain/credits.ts): no sign, no leading zeros, ≤ 3 decimals. */
const CREDIT_RE = /^(0|[1-9][0-9]*)(?:\.([0-9]{1,3}))?$/;

/** Decimal credits string → BigInt millicredits, or null when it isn't a well-formed amount. */
export function toMilli(value) {
  if (typeof value !== 'string') return null;
  const m = CREDIT_RE.exec(value.trim());
  if (!m) return null;
  return BigInt(m[1]) * 1000n + BigInt((m[2] || '').padEnd(3, '0'));
}

/** BigInt millicredits → shortest decimal string ("12.5"). */
export function formatMilli(milli) {
  const negative = milli < 0n;
  const abs = negative ? -milli : milli;
  const frac = (abs % 1000n).toString().padStart(3, '0').replace(/0+$/, '');
  return (negative ? '-' : '') + (abs / 1000n).toString() + (frac ? '.' + frac : '');
}

/** BigInt millicredits → a float, for plotting only. */
export const milliToPlot = (milli) => Number(milli) / 1000;

/** Minor units → a float in major units (2 decimals, as formatMoney), for plotting only. */
export const minorToPlot = (amountMinor) => amountMinor / 100;

/**
 * Usage of a period's credits: used against total = allowance + purchased (PAYG excluded, as the server's `used`
 * is). `permille` is floored so a bar never claims a threshold that was not reached; `level` uses the exact
 * comparisons the server uses for its 75% and 100% notifications.
 */
export function usageOf(balance) {
  const used = toMilli(balance && balance.used);
  const allowance = toMilli(balance && balance.allowance);
  const purchased = toMilli(balance && balance.purchased);
  if (used === null || allowance === null || purchased === null) return null;
  const total = allowance + purchased;
  let permille;
  if (total === 0n) permille = used > 0n ? 1000 : 0;
  else {
    const p = (used * 1000n) / total;
    permille = Number(p > 1000n ? 1000n : p);
  }
  let level = 'ok';
  if (total === 0n || used >= total) level = 'full';
  else if (used * 4n >= total * 3n) level = 'warn';
  return { used, total, totalText: formatMilli(total), permille, level };
}

/** 31 → "3.1%", 750 → "75%". */
export function formatPermille(permille) {
  const whole = Math.floor(permille / 10);
  const tenth = permille % 10;
  return tenth === 0 ? whole + '%' : whole + '.' + tenth + '%';
}

const currencyAffixCache = new Map();
/** Where the currency sign goes for a currency code ("$" before, …), from Intl; falls back to the code. */
function currencyAffixes(currency) {
  if (currencyAffixCache.has(currency)) return currencyAffixCache.get(currency);
  let affixes = { prefix: '', suffix: currency ? '\u00a0' + currency : '' };
  try {
    const parts = new Intl.NumberFormat('en-US', { style: 'currency', currency }).formatToParts(0);
    const first = parts.findIndex((p) => p.type === 'integer');
    const last =
      parts.length - 1 - [...parts].reverse().findIndex((p) => p.type === 'integer' || p.type === 'fraction');
    affixes = {
      prefix: parts
        .slice(0, first)
        .map((p) => p.value)
        .join(''),
      suffix: parts
        .slice(last + 1)
        .map((p) => p.value)
        .join(''),
    };
  } catch (_) {
    /* unknown currency code: keep the code as a suffix */
  }
  currencyAffixCache.set(currency, affixes);
  return affixes;
}

/** Minor units → "12.34" (2 decimals, no grouping): the plain number a CSV cell or a spreadsheet wants. */
export function formatMinorPlain(amountMinor) {
  const negative = amountMinor < 0;
  const digits = String(Math.abs(amountMinor)).padStart(3, '0');
  return (negative ? '-' : '') + digits.slice(0, -2) + '.' + digits.slice(-2);
}

/** { amountMinor: 1234, currency: "USD" } → "$12.34" (2 decimals, string arithmetic only). */
export function formatMoney(money) {
  if (!money || !Number.isSafeInteger(money.amountMinor)) return '—';
  const plain = formatMinorPlain(Math.abs(money.amountMinor));
  const [whole, fraction] = plain.split('.');
  const { prefix, suffix } = currencyAffixes(typeof money.currency === 'string' ? money.currency : '');
  return (
    (money.amountMinor < 0 ? '-' : '') + prefix + whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',') + '.' + fraction + suffix
  );
}

const DATE_FORMAT = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  timeZone: 'UTC',
});
const DAY_FORMAT = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' });
const DATE_TIME_FORMAT = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
});
export const TIME_FORMAT = new Intl.DateTimeFormat(undefined, {
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

/** ISO instant → a UTC calendar date (billing dates are UTC days). */
export function formatDate(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : DATE_FORMAT.format(d);
}

/** "2026-12-01" (a UTC day) → "Dec 1". */
export function formatDay(isoDay) {
  const d = new Date(isoDay + 'T00:00:00Z');
  return Number.isNaN(d.getTime()) ? String(isoDay) : DAY_FORMAT.format(d);
}

export function formatDateTime(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : DATE_TIME_FORMAT.format(d);
}

export function capitalize(s) {
  return s ? s.charAt(0).toUpperCase() + s.slice(1) : s;
}

const ROLE_LABELS = { member: 'Member', admin: 'Admin', billing: 'Billing' };
export const roleLabel = (r) => ROLE_LABELS[r] || String(r);

/** Notifications sent this period, as a member's card lists them. */
export const NOTICE_LABELS = {
  member_75: '75% reached',
  member_100: '100% reached',
  member_exceeded: 'limit exceeded (PAYG)',
};

/** A v4 UUID; crypto.randomUUID needs a secure context, getRandomValues does not. */
export function newRequestId() {
  const c = globalThis.crypto;
  if (c && typeof c.randomUUID === 'function') {
    try {
      return c.randomUUID();
    } catch (_) {
      /* fall through */
    }
  }
  const b = c.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join('-');
}

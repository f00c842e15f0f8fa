/*
 * Pure formatting and credit arithmetic: no DOM, no network.
 *
 * Credits arrive as decimal strings ("12.5"). Arithmetic on them is done on BigInt millicredits (split on ".", pad
 * to 3 digits); floats appear only where something is drawn (a bar's width, a chart's points). Money arrives as
 * integer minor units and is formatted with string operations, with as many decimals as the currency's exponent
 * (the plan's `currencyExponent`: 2 for USD, 0 for JPY); an amount typed in major units is parsed the same way.
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

/** currency → exponent, as the API's plan terms state them (rememberCurrency). */
const knownExponents = new Map();

/** Keeps the exponent of the plan's currency (`planTerms` of a usage or credits answer) for formatting and parsing. */
export function rememberCurrency(planTerms) {
  const e = planTerms && planTerms.currencyExponent;
  if (planTerms && typeof planTerms.currency === 'string' && Number.isInteger(e) && e >= 0 && e <= 6)
    knownExponents.set(planTerms.currency, e);
}

/** The currency's exponent: as the plan terms said, else as ISO 4217 has it (Intl), else 2. */
export function currencyExponent(currency) {
  if (knownExponents.has(currency)) return knownExponents.get(currency);
  try {
    return new Intl.NumberFormat('en-US', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits;
  } catch (_) {
    return 2;
  }
}

/** Minor units → a float in major units, for plotting only. */
export const minorToPlot = (amountMinor, currency) => amountMinor / 10 ** currencyExponent(currency);

/** A plotted major-units value back to whole minor units (a chart's tick or tooltip label). */
export const plotToMinor = (value, currency) => Math.round(value * 10 ** currencyExponent(currency));

/**
 * An amount typed in major units ("25", "25.5", "1,000.00") → { minor } in whole minor units, or { error }: a
 * decimal string split on ".", never a float, with at most as many decimals as the currency has.
 */
export function parseMajor(text, currency) {
  const exponent = currencyExponent(currency);
  const value = String(text ?? '')
    .trim()
    .replace(/,(?=[0-9]{3}(?:[.,]|$))/g, '');
  const m = /^([0-9]+)(?:\.([0-9]+))?$/.exec(value);
  const example = exponent === 0 ? '2500' : '25 or 25.' + '5'.padEnd(exponent, '0');
  if (!m) return { error: 'Enter an amount in ' + currency + ', such as ' + example + '.' };
  const fraction = m[2] || '';
  if (fraction.length > exponent) {
    return {
      error:
        exponent === 0
          ? currency + ' has no minor unit: enter a whole amount, such as ' + example + '.'
          : 'Enter at most ' + exponent + ' decimal places, such as ' + example + '.',
    };
  }
  const minor = BigInt(m[1]) * 10n ** BigInt(exponent) + BigInt(fraction.padEnd(exponent, '0') || '0');
  if (minor > BigInt(Number.MAX_SAFE_INTEGER)) return { error: 'That amount is too large.' };
  return { minor: Number(minor) };
}

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

/** Minor units → "12.34" (the currency's decimals, no grouping): the plain number a CSV cell or a spreadsheet wants. */
export function formatMinorPlain(amountMinor, currency) {
  const exponent = currencyExponent(currency);
  const negative = amountMinor < 0;
  const digits = String(Math.abs(amountMinor)).padStart(exponent + 1, '0');
  const whole = digits.slice(0, digits.length - exponent);
  return (negative ? '-' : '') + whole + (exponent ? '.' + digits.slice(-exponent) : '');
}

/** The same in major units for an input field ("25.00" → "25", "25.50" → "25.5"), or '' for none. */
export function formatMajorInput(money) {
  if (!money || !Number.isSafeInteger(money.amountMinor)) return '';
  const plain = formatMinorPlain(money.amountMinor, money.currency);
  return plain.includes('.') ? plain.replace(/\.?0+$/, '') : plain;
}

/** { amountMinor: 1234, currency: "USD" } → "$12.34", { amountMinor: 1234, currency: "JPY" } → "¥1,234". */
export function formatMoney(money) {
  if (!money || !Number.isSafeInteger(money.amountMinor)) return '—';
  const currency = typeof money.currency === 'string' ? money.currency : '';
  const [whole, fraction] = formatMinorPlain(Math.abs(money.amountMinor), currency).split('.');
  const { prefix, suffix } = currencyAffixes(currency);
  return (
    (money.amountMinor < 0 ? '-' : '') +
    prefix +
    whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',') +
    (fraction === undefined ? '' : '.' + fraction) +
    suffix
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

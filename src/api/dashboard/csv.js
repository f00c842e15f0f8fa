/* The usage table as CSV (RFC 4180), built in the page: pure, no DOM. */
import { formatMinorPlain } from './format.js';

export const USAGE_CSV_COLUMNS = [
  'userId',
  'email',
  'roles',
  'allowance',
  'purchased',
  'used',
  'remaining',
  'paygEnabled',
  'paygCredits',
  'paygCharge',
  'paused',
  'currency',
  'held',
  'paygCap',
];

/** One cell, quoted when it holds a comma, quote or line break. */
export function csvCell(value) {
  const text = value === null || value === undefined ? '' : String(value);
  return /[",\r\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
}

/**
 * Free text a person typed (an email): one that a spreadsheet would run as a formula (starting with = + - @, tab
 * or CR) gets a leading apostrophe, as OWASP advises for CSV exports. Numbers are left alone.
 */
export function inertText(value) {
  const text = value === null || value === undefined ? '' : String(value);
  return /^[=+\-@\t\r]/.test(text) ? "'" + text : text;
}

export function toCsv(header, rows) {
  return [header, ...rows].map((row) => row.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

/**
 * Members of GET /v1/teams/{teamId}/usage → CSV rows (credits as the API's decimal strings, money in major units with
 * the currency's decimals; `paygCap` empty when the member has none).
 */
export function usageCsv(members) {
  return toCsv(
    USAGE_CSV_COLUMNS,
    members.map((m) => {
      const b = m.balance || {};
      const charge = b.paygCharge || {};
      return [
        m.userId,
        inertText(m.email),
        (m.roles || []).join(' '),
        b.allowance,
        b.purchased,
        b.used,
        b.remaining,
        b.paygEnabled,
        b.paygCredits,
        Number.isSafeInteger(charge.amountMinor) ? formatMinorPlain(charge.amountMinor, charge.currency) : '',
        b.paused,
        charge.currency,
        b.held,
        b.paygCap && Number.isSafeInteger(b.paygCap.amountMinor)
          ? formatMinorPlain(b.paygCap.amountMinor, b.paygCap.currency)
          : '',
      ];
    }),
  );
}

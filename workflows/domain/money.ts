/**
 * Money (spec §3): integer minor units of a currency. PAYG rates are integer micro-units of currency per credit
 * (e.g. $0.04 per credit = 40_000 micros). Pure and deterministic: safe to import from Temporal workflow code
 * and from Node. All arithmetic is exact (BigInt); rounding happens once, half-up, in `paygChargeMinor`.
 */

export interface Money {
  /** Integer minor units (e.g. cents for USD). */
  amountMinor: number;
  /** ISO 4217 code, e.g. `USD`. */
  currency: string;
}

/** Default currency exponent (minor units per major unit = 10^2, as for USD/EUR). */
export const DEFAULT_CURRENCY_EXPONENT = 2;

/** Largest currency exponent accepted (generous; real currencies use 0..4). */
const MAX_EXPONENT = 18;

/**
 * PAYG charge in minor units for `millicredits` at `rateMicrosPerCredit`:
 *   round_half_up(millicredits × rate / 1000 / 10^(6 − exponent))
 * computed exactly as round_half_up(millicredits × rate × 10^exponent / 10^9) with BigInt.
 * Inputs must be non-negative safe integers; the result must be a safe integer.
 */
export function paygChargeMinor(
  millicredits: number,
  rateMicrosPerCredit: number,
  currencyExponent = DEFAULT_CURRENCY_EXPONENT,
): number {
  assertNonNegativeSafeInteger('millicredits', millicredits);
  assertNonNegativeSafeInteger('rateMicrosPerCredit', rateMicrosPerCredit);
  assertExponent(currencyExponent);
  const numerator = BigInt(millicredits) * BigInt(rateMicrosPerCredit) * 10n ** BigInt(currencyExponent);
  const denominator = 1_000_000_000n; // 1000 millicredits per credit × 10^6 micros per major unit
  const quotient = numerator / denominator;
  const remainder = numerator % denominator;
  const rounded = remainder * 2n >= denominator ? quotient + 1n : quotient; // half-up (inputs are non-negative)
  if (rounded > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new RangeError(`PAYG charge exceeds Number.MAX_SAFE_INTEGER minor units (${rounded.toString()})`);
  }
  return Number(rounded);
}

/** `USD 12.34`, `USD -0.05`, `JPY 1200` (exponent 0). */
export function formatMoney(m: Money, exponent = DEFAULT_CURRENCY_EXPONENT): string {
  if (!Number.isSafeInteger(m.amountMinor)) {
    throw new RangeError(`amountMinor must be a safe integer, got ${String(m.amountMinor)}`);
  }
  assertExponent(exponent);
  const negative = m.amountMinor < 0;
  const digits = String(Math.abs(m.amountMinor)).padStart(exponent + 1, '0');
  const whole = digits.slice(0, digits.length - exponent);
  const fraction = digits.slice(digits.length - exponent);
  return `${m.currency} ${negative ? '-' : ''}${whole}${exponent > 0 ? '.' + fraction : ''}`;
}

/**
 * A per-credit rate as people read it: `USD 0.04`, `USD 0.035`, `JPY 4.5` (micro-units per credit, the currency's
 * minor-unit decimals at least, more only when the rate has them).
 */
export function formatRate(
  rateMicrosPerCredit: number,
  currency: string,
  exponent = DEFAULT_CURRENCY_EXPONENT,
): string {
  assertNonNegativeSafeInteger('rateMicrosPerCredit', rateMicrosPerCredit);
  assertExponent(exponent);
  const digits = String(rateMicrosPerCredit).padStart(7, '0');
  const whole = digits.slice(0, -6);
  let fraction = digits.slice(-6).replace(/0+$/, '');
  if (fraction.length < exponent) fraction = fraction.padEnd(exponent, '0');
  return `${currency} ${whole}${fraction ? '.' + fraction : ''}`;
}

function assertNonNegativeSafeInteger(name: string, v: number): void {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new RangeError(`${name} must be a non-negative safe integer, got ${String(v)}`);
  }
}

function assertExponent(e: number): void {
  if (typeof e !== 'number' || !Number.isInteger(e) || e < 0 || e > MAX_EXPONENT) {
    throw new RangeError(`currency exponent must be an integer from 0 to ${MAX_EXPONENT}, got ${String(e)}`);
  }
}

/**
 * Credits (spec §3): exact decimals with at most 3 decimal places, held everywhere as integer millicredits.
 * Pure and deterministic: safe to import from Temporal workflow code and from Node.
 *
 * Accepted input grammar (strings, and numbers through their shortest decimal representation `String(n)`):
 *   `0` | `[1-9][0-9]*`, optionally followed by `.` and 1–3 digits.
 * Rejected: anything else — signs (`-1`, `+1`), surrounding or inner whitespace, leading zeros (`01`),
 * bare dots (`.5`, `5.`), exponent notation (`1e3`, and numbers that `String()` renders as `1e21`/`1e-7`),
 * hex/octal/binary, more than 3 decimal places (also `12.5000`), NaN/Infinity, values beyond
 * Number.MAX_SAFE_INTEGER millicredits, and `number` inputs of 2^43 credits or more (see MAX_EXACT_NUMBER_CREDITS).
 * Numbers are never multiplied as floats (1.005 * 1000 !== 1005).
 */

export type Millicredits = number;

/** Millicredits per credit. */
export const MILLICREDITS_PER_CREDIT = 1000;

/** Thrown for any malformed or out-of-range credits value. */
export class CreditsFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CreditsFormatError';
  }
}

/**
 * 2^43: below it, doubles are spaced at most 2^-10 < 0.001 apart, so every value with ≤ 3 decimals has its own
 * double and `String(n)` gives back exactly those digits. From 2^43 on, doubles are 2^-9 apart and a number such as
 * 8796093022208.001 has already become 8796093022208.002 when it reaches us, so numbers there are rejected (a
 * decimal string still works up to Number.MAX_SAFE_INTEGER millicredits).
 */
export const MAX_EXACT_NUMBER_CREDITS = 2 ** 43; // 8796093022208

const DECIMAL = /^(0|[1-9][0-9]*)(?:\.([0-9]+))?$/;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
/** Integer digits beyond which a value certainly exceeds MAX_SAFE_INTEGER millicredits (9007199254740.991). */
const MAX_INTEGER_DIGITS = String(Math.floor(Number.MAX_SAFE_INTEGER / MILLICREDITS_PER_CREDIT)).length;

/**
 * Parses a non-negative credits value (zero allowed) into millicredits.
 * Accepts a JSON number (`12`, `12.5`) or a decimal string (`"0.001"`, `"12.500"`).
 */
export function parseCredits(input: unknown): Millicredits {
  let text: string;
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) throw new CreditsFormatError('credits must be a finite number');
    if (input < 0) throw new CreditsFormatError('credits must not be negative');
    if (input >= MAX_EXACT_NUMBER_CREDITS) {
      throw new CreditsFormatError(
        `credits of ${MAX_EXACT_NUMBER_CREDITS} or more must be sent as a decimal string ` +
          '(a JSON number cannot hold them exactly)',
      );
    }
    text = String(input); // shortest round-trip decimal; -0 renders as "0"
    if (/[eE]/.test(text)) {
      throw new CreditsFormatError('credits must be a plain decimal with at most 3 decimal places (got ' + text + ')');
    }
  } else if (typeof input === 'string') {
    text = input;
    if (text.length === 0) throw new CreditsFormatError('credits must not be an empty string');
    if (text.startsWith('-')) throw new CreditsFormatError('credits must not be negative');
  } else {
    throw new CreditsFormatError(`credits must be a number or a decimal string, got ${typeName(input)}`);
  }

  const match = DECIMAL.exec(text);
  if (!match) {
    throw new CreditsFormatError(
      'credits must be a plain decimal such as "12" or "12.5" ' +
        `(no sign, whitespace, exponent or leading zeros), got ${quote(text)}`,
    );
  }
  const integerPart = match[1]!;
  const fractionPart = match[2] ?? '';
  if (fractionPart.length > 3) throw new CreditsFormatError('credits must have at most 3 decimal places');
  if (integerPart.length > MAX_INTEGER_DIGITS) throw tooLarge();

  const milli = BigInt(integerPart) * 1000n + BigInt(fractionPart.padEnd(3, '0'));
  if (milli > MAX_SAFE) throw tooLarge();
  return Number(milli);
}

export interface CreditAmountOptions {
  /** Accept 0 (default false: the amount must be positive). */
  allowZero?: boolean;
  /** Inclusive maximum, in millicredits. */
  max?: Millicredits;
}

/** `parseCredits` plus amount rules: positive unless `allowZero`, and at most `max` millicredits if given. */
export function parseCreditAmount(input: unknown, options: CreditAmountOptions = {}): Millicredits {
  const { allowZero = false, max } = options;
  if (max !== undefined && (!Number.isSafeInteger(max) || max < 0)) {
    throw new RangeError(`max must be a non-negative safe integer of millicredits, got ${String(max)}`);
  }
  const m = parseCredits(input);
  if (m === 0 && !allowZero) throw new CreditsFormatError('credits must be greater than 0');
  if (max !== undefined && m > max) throw new CreditsFormatError(`credits must be at most ${formatCredits(max)}`);
  return m;
}

/** Minimal decimal string of a millicredits amount: 12500 → "12.5", 1 → "0.001", 0 → "0", -1500 → "-1.5". */
export function formatCredits(m: Millicredits): string {
  if (!Number.isSafeInteger(m)) throw new RangeError(`millicredits must be a safe integer, got ${String(m)}`);
  const negative = m < 0;
  const abs = Math.abs(m);
  const frac = abs % MILLICREDITS_PER_CREDIT;
  const whole = (abs - frac) / MILLICREDITS_PER_CREDIT; // exact: an integer quotient of safe integers
  const fracText = frac === 0 ? '' : '.' + String(frac).padStart(3, '0').replace(/0+$/, '');
  return (negative ? '-' : '') + String(whole) + fracText;
}

function tooLarge(): CreditsFormatError {
  return new CreditsFormatError(
    `credits must be at most ${formatCredits(Number.MAX_SAFE_INTEGER)} (Number.MAX_SAFE_INTEGER millicredits)`,
  );
}

function quote(s: string): string {
  return JSON.stringify(s.length > 40 ? s.slice(0, 40) + '…' : s);
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

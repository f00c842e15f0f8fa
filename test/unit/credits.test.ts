import fc from 'fast-check';
import {
  CreditsFormatError,
  formatCredits,
  MAX_EXACT_NUMBER_CREDITS,
  MILLICREDITS_PER_CREDIT,
  parseCreditAmount,
  parseCredits,
} from '../../workflows/domain/credits';

const MAX = Number.MAX_SAFE_INTEGER; // 9007199254740991 millicredits = 9007199254740.991 credits

function rejection(input: unknown): CreditsFormatError {
  try {
    parseCredits(input);
  } catch (e) {
    expect(e).toBeInstanceOf(CreditsFormatError);
    expect(e).toBeInstanceOf(Error);
    return e as CreditsFormatError;
  }
  throw new Error(`expected ${String(input)} to be rejected`);
}

describe('parseCredits accepts', () => {
  it.each<[unknown, number]>([
    [12, 12_000],
    [12.5, 12_500],
    [0.001, 1],
    [0.1, 100],
    [1.005, 1_005], // 1.005 * 1000 === 1004.9999999999999 in floats
    [4.35, 4_350], // 4.35 * 1000 === 4349.999999999999 in floats
    [0.3, 300],
    [0, 0],
    [-0, 0],
    [123456.789, 123_456_789],
    [8796093022207.999, 8_796_093_022_207_999], // largest number input: just below 2^43 credits
    [8796093022207.001, 8_796_093_022_207_001],
    ['12', 12_000],
    ['12.5', 12_500],
    ['12.500', 12_500],
    ['12.50', 12_500],
    ['0.001', 1],
    ['0', 0],
    ['0.0', 0],
    ['0.000', 0],
    ['1.005', 1_005],
    ['9007199254740.991', MAX],
    ['9007199254740', 9_007_199_254_740_000],
  ])('%p → %p', (input, expected) => {
    expect(parseCredits(input)).toBe(expected); // toBe: Object.is, so -0 would fail
  });
});

describe('parseCredits rejects', () => {
  it.each<[string, unknown, RegExp]>([
    ['null', null, /number or a decimal string, got null/],
    ['undefined', undefined, /got undefined/],
    ['boolean', true, /got boolean/],
    ['object', { credits: 1 }, /got object/],
    ['array', [1], /got array/],
    ['bigint', 5n, /got bigint/],
    ['NaN', NaN, /finite/],
    ['Infinity', Infinity, /finite/],
    ['-Infinity', -Infinity, /finite/],
    ['negative number', -1, /must not be negative/],
    ['tiny negative number', -0.001, /must not be negative/],
    ['negative string', '-1', /must not be negative/],
    ['negative zero string', '-0', /must not be negative/],
    ['4 decimals (number)', 0.0001, /at most 3 decimal places/],
    ['float noise 0.1+0.2', 0.1 + 0.2, /at most 3 decimal places/],
    ['4 decimals (string)', '1.2345', /at most 3 decimal places/],
    ['trailing zero 4th decimal', '12.5000', /at most 3 decimal places/],
    ['exponent string', '1e3', /plain decimal/],
    ['exponent string upper', '1E3', /plain decimal/],
    ['exponent string with fraction', '1.5e2', /plain decimal/],
    ['number rendered with exponent (large)', 1e21, /must be sent as a decimal string/],
    ['number rendered with exponent (small)', 1e-7, /plain decimal.*1e-7/],
    ['empty string', '', /empty string/],
    ['whitespace only', ' ', /plain decimal/],
    ['leading whitespace', ' 1', /plain decimal/],
    ['trailing whitespace', '1 ', /plain decimal/],
    ['trailing newline', '1\n', /plain decimal/],
    ['inner whitespace', '1 000', /plain decimal/],
    ['leading plus', '+1', /plain decimal/],
    ['hex', '0x10', /plain decimal/],
    ['octal', '0o7', /plain decimal/],
    ['binary', '0b1', /plain decimal/],
    ['leading zero', '01', /plain decimal/],
    ['leading zeros with fraction', '00.5', /plain decimal/],
    ['bare leading dot', '.5', /plain decimal/],
    ['bare trailing dot', '5.', /plain decimal/],
    ['comma separator', '1,5', /plain decimal/],
    ['thousands separator', '1_000', /plain decimal/],
    ['Infinity string', 'Infinity', /plain decimal/],
    ['NaN string', 'NaN', /plain decimal/],
    ['unicode digits', '١٢', /plain decimal/],
    ['just above max (string)', '9007199254740.992', /at most 9007199254740\.991/],
    ['far above max (string)', '9007199254741', /at most 9007199254740\.991/],
    ['huge string', '9'.repeat(400), /at most 9007199254740\.991/],
    ['number at 2^43 credits', 2 ** 43, /8796093022208 or more must be sent as a decimal string/],
    // eslint-disable-next-line no-loss-of-precision -- the imprecise literal is the point of the case
    ['number in the inexact band', 8796093022208.001, /must be sent as a decimal string/],
    // eslint-disable-next-line no-loss-of-precision -- the imprecise literal is the point of the case
    ['number at max', 9007199254740.991, /must be sent as a decimal string/],
    ['1e20 (number, rendered in full)', 1e20, /must be sent as a decimal string/],
  ])('%s', (_name, input, message) => {
    expect(rejection(input).message).toMatch(message);
  });

  it('has a named error class', () => {
    const e = rejection('x');
    expect(e.name).toBe('CreditsFormatError');
  });
});

describe('parseCreditAmount', () => {
  it('rejects zero by default and accepts it with allowZero', () => {
    expect(() => parseCreditAmount(0)).toThrow(CreditsFormatError);
    expect(() => parseCreditAmount('0.000')).toThrow('credits must be greater than 0');
    expect(parseCreditAmount(0, { allowZero: true })).toBe(0);
    expect(parseCreditAmount('0', { allowZero: true })).toBe(0);
  });

  it('accepts positive amounts', () => {
    expect(parseCreditAmount('0.001')).toBe(1);
    expect(parseCreditAmount(12.5)).toBe(12_500);
  });

  it('still rejects what parseCredits rejects', () => {
    expect(() => parseCreditAmount(-1, { allowZero: true })).toThrow(/must not be negative/);
    expect(() => parseCreditAmount('1.0001')).toThrow(/at most 3 decimal places/);
    expect(() => parseCreditAmount(null)).toThrow(CreditsFormatError);
  });

  it('enforces an inclusive maximum in millicredits', () => {
    expect(parseCreditAmount('100', { max: 100_000 })).toBe(100_000);
    expect(() => parseCreditAmount('100.001', { max: 100_000 })).toThrow('credits must be at most 100');
    expect(() => parseCreditAmount(0.5, { max: 499 })).toThrow('credits must be at most 0.499');
    expect(parseCreditAmount(0, { allowZero: true, max: 0 })).toBe(0);
  });

  it('rejects an invalid max option', () => {
    expect(() => parseCreditAmount(1, { max: -1 })).toThrow(RangeError);
    expect(() => parseCreditAmount(1, { max: 1.5 })).toThrow(RangeError);
    expect(() => parseCreditAmount(1, { max: NaN })).toThrow(RangeError);
  });
});

describe('formatCredits', () => {
  it.each<[number, string]>([
    [12_500, '12.5'],
    [1, '0.001'],
    [10, '0.01'],
    [100, '0.1'],
    [0, '0'],
    [-0, '0'],
    [-1_500, '-1.5'],
    [-1, '-0.001'],
    [3_000, '3'],
    [1_005, '1.005'],
    [1_050, '1.05'],
    [123_456_789, '123456.789'],
    [MAX, '9007199254740.991'],
    [-MAX, '-9007199254740.991'],
    [9_007_199_254_740_000, '9007199254740'],
  ])('%p → %p', (m, expected) => {
    expect(formatCredits(m)).toBe(expected);
  });

  it.each([0.5, NaN, Infinity, MAX + 1])('rejects %p', (m) => {
    expect(() => formatCredits(m)).toThrow(RangeError);
  });
});

describe('properties', () => {
  it('parseCredits(formatCredits(m)) === m for non-negative safe integers', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), (m) => {
        expect(parseCredits(formatCredits(m))).toBe(m);
      }),
      { numRuns: 2000 },
    );
  });

  it('round-trips small values too (dense around the decimal point)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000 }), (m) => {
        expect(parseCredits(formatCredits(m))).toBe(m);
      }),
      { numRuns: 2000 },
    );
  });

  it('a JSON number with ≤ 3 decimals parses to the same value as its string form', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e12 }), (m) => {
        const text = formatCredits(m);
        const asNumber = Number(text); // what JSON.parse would give a client sending this number
        expect(parseCredits(asNumber)).toBe(m);
        expect(parseCredits(JSON.parse(text))).toBe(m);
      }),
      { numRuns: 2000 },
    );
  });

  it('formatCredits is minimal: no trailing zeros after a point, no leading zeros', () => {
    fc.assert(
      fc.property(fc.integer({ min: -MAX, max: MAX }), (m) => {
        const s = formatCredits(m);
        expect(s).toMatch(/^-?(0|[1-9][0-9]*)(\.[0-9]{0,2}[1-9])?$/);
        expect(s.startsWith('-')).toBe(m < 0);
      }),
    );
  });

  it('strings with 4..10 decimal places are rejected unless the extra digits are absent', () => {
    fc.assert(
      fc.property(fc.nat(1e9), fc.stringMatching(/^[0-9]{4,10}$/), (whole, frac) => {
        expect(() => parseCredits(`${whole}.${frac}`)).toThrow('credits must have at most 3 decimal places');
      }),
    );
  });

  it('MILLICREDITS_PER_CREDIT is 1000', () => {
    expect(MILLICREDITS_PER_CREDIT).toBe(1000);
  });

  it('every 3-decimal number just below 2^43 credits parses exactly', () => {
    const top = MAX_EXACT_NUMBER_CREDITS * 1000 - 1; // millicredits
    fc.assert(
      fc.property(fc.integer({ min: top - 10_000_000, max: top }), (m) => {
        expect(parseCredits(Number(formatCredits(m)))).toBe(m);
      }),
      { numRuns: 2000 },
    );
    expect(parseCredits(Number(formatCredits(top)))).toBe(top);
  });
});

describe('error messages', () => {
  const message = (input: unknown) => rejection(input).message;

  it('quote the rejected text, cut after 40 characters', () => {
    const forty = '1'.repeat(39) + 'x';
    expect(message(forty)).toBe(
      'credits must be a plain decimal such as "12" or "12.5" (no sign, whitespace, exponent or leading zeros), ' +
        `got "${forty}"`,
    );
    expect(message(forty + 'y')).toMatch(new RegExp(`got "${forty}…"$`));
  });

  it('say why a number was refused', () => {
    expect(message(1e-7)).toBe('credits must be a plain decimal with at most 3 decimal places (got 1e-7)');
    expect(message(NaN)).toBe('credits must be a finite number');
    expect(message(-2)).toBe('credits must not be negative');
    expect(message(2 ** 43)).toBe(
      'credits of 8796093022208 or more must be sent as a decimal string (a JSON number cannot hold them exactly)',
    );
    expect(message('')).toBe('credits must not be an empty string');
    expect(message('9007199254740.992')).toBe(
      'credits must be at most 9007199254740.991 (Number.MAX_SAFE_INTEGER millicredits)',
    );
  });

  it('say what a bad option or millicredits value is', () => {
    expect(() => parseCreditAmount(1, { max: -1 })).toThrow(
      'max must be a non-negative safe integer of millicredits, got -1',
    );
    expect(() => formatCredits(0.5)).toThrow('millicredits must be a safe integer, got 0.5');
  });
});

import fc from 'fast-check';
import { DEFAULT_CURRENCY_EXPONENT, formatMoney, formatRate, paygChargeMinor } from '../../workflows/domain/money';

const MAX = Number.MAX_SAFE_INTEGER;

/** Reference: exact rational value v = mc × rate × 10^exp / 10^9; half-up = floor((2·num + den) / (2·den)). */
function reference(mc: number, rate: number, exp: number): bigint {
  const num = BigInt(mc) * BigInt(rate) * 10n ** BigInt(exp);
  const den = 10n ** 9n;
  return (2n * num + den) / (2n * den);
}

describe('paygChargeMinor', () => {
  it('uses exponent 2 by default', () => {
    expect(DEFAULT_CURRENCY_EXPONENT).toBe(2);
    expect(paygChargeMinor(12_500, 40_000)).toBe(paygChargeMinor(12_500, 40_000, 2));
  });

  it.each<[string, number, number, number, number]>([
    // name, millicredits, rate (micros/credit), exponent, expected minor units
    ['12.5 credits at $0.04 = $0.50', 12_500, 40_000, 2, 50],
    ['1 credit at $0.04 = 4 cents', 1_000, 40_000, 2, 4],
    ['0 credits', 0, 40_000, 2, 0],
    ['rate 0', 123_456, 0, 2, 0],
    ['0.001 credit at $0.04 = 0.004 cents → 0', 1, 40_000, 2, 0],
    ['0.125 credit at $0.04 = 0.5 cents → 1 (half-up)', 125, 40_000, 2, 1],
    ['0.124 credit at $0.04 = 0.496 cents → 0', 124, 40_000, 2, 0],
    ['1 credit at 5000 micros = 0.5 cents → 1', 1_000, 5_000, 2, 1],
    ['1 credit at 4999 micros = 0.4999 cents → 0', 1_000, 4_999, 2, 0],
    ['1 millicredit at $5 = exactly 0.5 cents → 1', 1, 5_000_000, 2, 1],
    ['1 millicredit at $4.999999 = 0.4999999 cents → 0', 1, 4_999_999, 2, 0],
    ['exactly 1.5 cents → 2', 1, 15_000_000, 2, 2],
    ['1.4999 cents → 1', 1, 14_999_000, 2, 1],
    ['1.49999999 cents → 1', 1_000, 14_999, 2, 1],
    ['exactly 2.5 cents → 3 (half-up, not half-even)', 1, 25_000_000, 2, 3],
    ['exactly 3.5 cents → 4', 7, 5_000_000, 2, 4],
    ['3.625 credits at $0.04 = exactly 14.5 cents → 15 (floats give 14)', 3_625, 40_000, 2, 15],
    ['5.5 credits at $0.03 = exactly 16.5 cents → 17 (floats give 16)', 5_500, 30_000, 2, 17],
    ['1.5000001 cents → 2', 1_000, 15_000, 2, 2],
    ['exponent 0 (JPY): exactly 0.5 yen → 1', 1_000, 500_000, 0, 1],
    ['exponent 0 (JPY): 0.499999 yen → 0', 1_000, 499_999, 0, 0],
    ['exponent 0 (JPY): 1000 credits at ¥4 = ¥4000', 1_000_000, 4_000_000, 0, 4_000],
    ['exponent 3 (KWD): exactly 0.5 fils → 1', 1_000, 500, 3, 1],
    ['exponent 3 (KWD): 0.499 fils → 0', 1_000, 499, 3, 0],
    ['exponent 6: minor unit = 1 micro; 0.5 micro → 1', 1, 500, 6, 1],
    ['exponent 8: finer than micros', 1, 1, 8, 0], // 1e-3 micros = 1e-1 minor units → 0
    ['exponent 8: 5 micro-credits-micros', 5, 1, 8, 1], // 5e-3 micros = 0.5 minor → 1
  ])('%s', (_name, mc, rate, exp, expected) => {
    expect(paygChargeMinor(mc, rate, exp)).toBe(expected);
  });

  it('is exact where float intermediates would exceed 2^53', () => {
    // (2^53 − 1) millicredits at $1/credit = (2^53 − 1) / 10 cents = 900719925474099.1 → 900719925474099
    expect(paygChargeMinor(MAX, 1_000_000)).toBe(900_719_925_474_099);
    // Float arithmetic gets this wrong: 196257759377591 mc × 99875429 µ/credit is 1960132791241567.4… cents.
    expect(Math.round((196_257_759_377_591 * 99_875_429) / 1000 / 10_000)).toBe(1_960_132_791_241_568);
    expect(paygChargeMinor(196_257_759_377_591, 99_875_429)).toBe(1_960_132_791_241_567);
    // ...95 at the end → half-up: (2^53 − 1 − 6) millicredits = ...985 → /10 = ...98.5 → ...99
    expect(paygChargeMinor(MAX - 6, 1_000_000)).toBe(900_719_925_474_099);
    expect(paygChargeMinor(MAX - 7, 1_000_000)).toBe(900_719_925_474_098); // ...98.4
    // 9e12 credits at $0.04: 9e15 × 40000 = 3.6e20 intermediate
    expect(paygChargeMinor(9_000_000_000_000_000, 40_000)).toBe(36_000_000_000_000);
    // odd rate with a x.5 remainder deep in the digits: 4503599627370497 × 3 / 1e7 …
    expect(paygChargeMinor(4_503_599_627_370_497, 3_333_333)).toBe(
      Number(reference(4_503_599_627_370_497, 3_333_333, 2)),
    );
  });

  it('does not round like naive float code', () => {
    const naive = (mc: number, rate: number) => Math.round((mc / 1000) * (rate / 1e6) * 100);
    expect(naive(3_625, 40_000)).toBe(14); // 14.499999999999998
    expect(paygChargeMinor(3_625, 40_000)).toBe(15);
  });

  it('throws when the result is not a safe integer', () => {
    expect(() => paygChargeMinor(MAX, MAX)).toThrow(/exceeds Number.MAX_SAFE_INTEGER/);
    expect(() => paygChargeMinor(MAX, MAX)).toThrow(RangeError);
  });

  it.each<[string, number, number, number]>([
    ['negative millicredits', -1, 40_000, 2],
    ['negative rate', 1, -1, 2],
    ['fractional millicredits', 1.5, 40_000, 2],
    ['fractional rate', 1, 0.5, 2],
    ['NaN millicredits', NaN, 40_000, 2],
    ['Infinity rate', 1, Infinity, 2],
    ['unsafe millicredits', MAX + 1, 1, 2],
    ['negative exponent', 1, 1, -1],
    ['fractional exponent', 1, 1, 2.5],
    ['huge exponent', 1, 1, 19],
  ])('rejects %s', (_name, mc, rate, exp) => {
    expect(() => paygChargeMinor(mc, rate, exp)).toThrow(RangeError);
  });
});

describe('paygChargeMinor properties', () => {
  it('equals the BigInt reference formula (or throws when that is unsafe)', () => {
    fc.assert(
      fc.property(
        fc.maxSafeNat(),
        fc.integer({ min: 0, max: 100_000_000 }),
        fc.integer({ min: 0, max: 6 }),
        (mc, rate, exp) => {
          const expected = reference(mc, rate, exp);
          if (expected > BigInt(MAX)) {
            expect(() => paygChargeMinor(mc, rate, exp)).toThrow(RangeError);
          } else {
            expect(paygChargeMinor(mc, rate, exp)).toBe(Number(expected));
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('is within half a minor unit of the exact value, and exactly half rounds up', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e12 }), fc.integer({ min: 0, max: 1e8 }), (mc, rate) => {
        const result = BigInt(paygChargeMinor(mc, rate));
        const num = BigInt(mc) * BigInt(rate) * 100n; // exact value = num / 1e9 cents
        const diffTimes2 = 2n * (result * 10n ** 9n - num); // 2 × (result − exact) × 1e9
        expect(diffTimes2 > -(10n ** 9n)).toBe(true); // result − exact > −0.5
        expect(diffTimes2 <= 10n ** 9n).toBe(true); // result − exact ≤ +0.5 (equality only for x.5 rounded up)
      }),
      { numRuns: 2000 },
    );
  });

  it('is monotonic in millicredits', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1e12 }),
        fc.integer({ min: 0, max: 1e12 }),
        fc.integer({ min: 0, max: 100_000_000 }),
        fc.integer({ min: 0, max: 4 }),
        (a, b, rate, exp) => {
          const [lo, hi] = a <= b ? [a, b] : [b, a];
          expect(paygChargeMinor(lo, rate, exp)).toBeLessThanOrEqual(paygChargeMinor(hi, rate, exp));
          expect(paygChargeMinor(lo, rate, exp)).toBeLessThanOrEqual(paygChargeMinor(lo + 1, rate, exp));
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('formatMoney', () => {
  it.each<[number, string, number | undefined, string]>([
    [1_234, 'USD', undefined, 'USD 12.34'],
    [5, 'USD', undefined, 'USD 0.05'],
    [50, 'USD', undefined, 'USD 0.50'],
    [0, 'USD', undefined, 'USD 0.00'],
    [-0, 'USD', undefined, 'USD 0.00'],
    [-5, 'USD', undefined, 'USD -0.05'],
    [-1_234, 'EUR', 2, 'EUR -12.34'],
    [100_000_000, 'USD', 2, 'USD 1000000.00'],
    [MAX, 'USD', 2, 'USD 90071992547409.91'],
    [1_200, 'JPY', 0, 'JPY 1200'],
    [0, 'JPY', 0, 'JPY 0'],
    [1_234, 'KWD', 3, 'KWD 1.234'],
    [7, 'KWD', 3, 'KWD 0.007'],
  ])('%p %s (exponent %p) → %p', (amountMinor, currency, exponent, expected) => {
    expect(formatMoney({ amountMinor, currency }, exponent)).toBe(expected);
  });

  it('rejects non-integer amounts and bad exponents', () => {
    expect(() => formatMoney({ amountMinor: 1.5, currency: 'USD' })).toThrow(RangeError);
    expect(() => formatMoney({ amountMinor: NaN, currency: 'USD' })).toThrow(RangeError);
    expect(() => formatMoney({ amountMinor: 1, currency: 'USD' }, -1)).toThrow(RangeError);
  });

  it('round-trips through the decimal digits', () => {
    fc.assert(
      fc.property(fc.integer({ min: -MAX, max: MAX }), fc.integer({ min: 0, max: 6 }), (amountMinor, exp) => {
        const s = formatMoney({ amountMinor, currency: 'XTS' }, exp);
        const m = /^XTS (-?)([0-9]+)(?:\.([0-9]+))?$/.exec(s);
        expect(m).not.toBeNull();
        const [, sign, whole, frac = ''] = m!;
        expect(frac.length).toBe(exp);
        expect(whole === '0' || !whole!.startsWith('0')).toBe(true);
        const back = BigInt(whole! + frac) * (sign === '-' ? -1n : 1n);
        expect(back).toBe(BigInt(amountMinor));
      }),
    );
  });
});

describe('money limits and messages', () => {
  it('returns a charge of exactly Number.MAX_SAFE_INTEGER minor units, and refuses one more', () => {
    expect(paygChargeMinor(MAX, 10_000_000)).toBe(MAX); // (2^53 − 1) millicredits at $10 per credit
    expect(() => paygChargeMinor(MAX, 10_000_001)).toThrow(
      `PAYG charge exceeds Number.MAX_SAFE_INTEGER minor units (${reference(MAX, 10_000_001, 2)})`,
    );
  });

  it('accepts currency exponents up to 18', () => {
    expect(paygChargeMinor(1, 1, 18)).toBe(1_000_000_000); // 10^-9 major units = 10^9 minor units of 10^-18
    expect(formatMoney({ amountMinor: 1, currency: 'XTS' }, 18)).toBe('XTS 0.000000000000000001');
    expect(formatRate(1, 'XTS', 18)).toBe('XTS 0.000001000000000000');
  });

  it('names what is wrong', () => {
    expect(() => paygChargeMinor(-1, 1)).toThrow('millicredits must be a non-negative safe integer, got -1');
    expect(() => paygChargeMinor(1, 0.5)).toThrow('rateMicrosPerCredit must be a non-negative safe integer, got 0.5');
    expect(() => paygChargeMinor(1, 1, 19)).toThrow('currency exponent must be an integer from 0 to 18, got 19');
    expect(() => formatMoney({ amountMinor: 1.5, currency: 'USD' })).toThrow(
      'amountMinor must be a safe integer, got 1.5',
    );
    expect(() => formatMoney({ amountMinor: 1, currency: 'USD' }, 2.5)).toThrow(
      'currency exponent must be an integer from 0 to 18, got 2.5',
    );
    expect(() => formatRate(-1, 'USD')).toThrow('rateMicrosPerCredit must be a non-negative safe integer, got -1');
    expect(() => formatRate(1, 'USD', -1)).toThrow('currency exponent must be an integer from 0 to 18, got -1');
  });
});

describe('formatRate', () => {
  it.each<[number, string, number | undefined, string]>([
    [40_000, 'USD', undefined, 'USD 0.04'],
    [35_000, 'USD', undefined, 'USD 0.035'],
    [1_000_000, 'USD', undefined, 'USD 1.00'],
    [0, 'USD', undefined, 'USD 0.00'],
    [1, 'USD', 2, 'USD 0.000001'],
    [12_345_678_900, 'USD', 2, 'USD 12345.6789'],
    [4_500_000, 'JPY', 0, 'JPY 4.5'],
    [4_000_000, 'JPY', 0, 'JPY 4'],
    [0, 'JPY', 0, 'JPY 0'],
    [100_000, 'KWD', 3, 'KWD 0.100'],
    [500, 'KWD', 3, 'KWD 0.0005'],
  ])('%p micros per credit in %s (exponent %p) → %p', (rate, currency, exponent, expected) => {
    expect(formatRate(rate, currency, exponent)).toBe(expected);
  });
});

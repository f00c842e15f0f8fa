import fc from 'fast-check';
import {
  anchorDateInMonth,
  assertAnchorDay,
  type BillingPeriod,
  daysInMonth,
  nextPeriod,
  periodContaining,
  periodKey,
  previousPeriod,
} from '../../workflows/domain/periods';

const DAY = 86_400_000;

/** Epoch ms of 00:00 UTC on an ISO date, or of a full ISO instant. */
function t(iso: string): number {
  const ms = Date.parse(iso.length === 10 ? `${iso}T00:00:00.000Z` : iso);
  if (Number.isNaN(ms)) throw new Error(`bad test date ${iso}`);
  return ms;
}

function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function show(p: BillingPeriod): [string, string] {
  return [isoDate(p.start), isoDate(p.end)];
}

/** Hand-written month lengths, independent of the implementation's use of Date. */
const LEAP = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const COMMON = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
function monthLengths(year: number): number[] {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return leap ? LEAP : COMMON;
}

/** Expected billing dates (ISO) from Dec of `fromYear - 1` to Jan of `toYear + 1`, built from the tables above. */
function expectedBillingDates(anchor: number, fromYear: number, toYear: number): string[] {
  const out: string[] = [];
  const push = (y: number, m0: number) => {
    const day = Math.min(anchor, monthLengths(y)[m0]!);
    out.push(`${String(y).padStart(4, '0')}-${String(m0 + 1).padStart(2, '0')}-${String(day).padStart(2, '0')}`);
  };
  push(fromYear - 1, 11);
  for (let y = fromYear; y <= toYear; y++) for (let m = 0; m < 12; m++) push(y, m);
  push(toYear + 1, 0);
  return out;
}

describe('assertAnchorDay', () => {
  it.each([1, 15, 28, 29, 30, 31])('accepts %p', (d) => {
    expect(() => assertAnchorDay(d)).not.toThrow();
  });

  it.each([0, 32, -1, 1.5, NaN, Infinity, '15', null, undefined, {}, 15n])('rejects %p', (d) => {
    expect(() => assertAnchorDay(d)).toThrow(/billing anchor day must be an integer from 1 to 31/);
  });

  it('narrows the type', () => {
    const v: unknown = 7;
    assertAnchorDay(v);
    const n: number = v; // compiles only because of the assertion signature
    expect(n).toBe(7);
  });
});

describe('daysInMonth', () => {
  it('knows leap years, including century rules', () => {
    expect(daysInMonth(2024, 1)).toBe(29);
    expect(daysInMonth(2025, 1)).toBe(28);
    expect(daysInMonth(2000, 1)).toBe(29);
    expect(daysInMonth(2100, 1)).toBe(28);
    expect(daysInMonth(2024, 3)).toBe(30);
    expect(daysInMonth(2024, 11)).toBe(31);
  });
});

describe('anchorDateInMonth', () => {
  it('clamps to the last day of the month', () => {
    expect(anchorDateInMonth(2024, 1, 31)).toBe(t('2024-02-29'));
    expect(anchorDateInMonth(2025, 1, 30)).toBe(t('2025-02-28'));
    expect(anchorDateInMonth(2025, 1, 29)).toBe(t('2025-02-28'));
    expect(anchorDateInMonth(2024, 1, 29)).toBe(t('2024-02-29'));
    expect(anchorDateInMonth(2024, 3, 31)).toBe(t('2024-04-30'));
    expect(anchorDateInMonth(2024, 0, 31)).toBe(t('2024-01-31'));
    expect(anchorDateInMonth(2024, 2, 31)).toBe(t('2024-03-31'));
    expect(anchorDateInMonth(2100, 1, 29)).toBe(t('2100-02-28'));
    expect(anchorDateInMonth(2000, 1, 30)).toBe(t('2000-02-29'));
  });

  it('returns midnight UTC', () => {
    const ms = anchorDateInMonth(2024, 6, 15);
    expect(ms).toBe(t('2024-07-15T00:00:00.000Z'));
    expect(ms % DAY).toBe(0);
  });

  it('rolls month indexes outside 0..11 into neighbouring years', () => {
    expect(anchorDateInMonth(2024, -1, 31)).toBe(t('2023-12-31'));
    expect(anchorDateInMonth(2024, 12, 31)).toBe(t('2025-01-31'));
    expect(anchorDateInMonth(2024, 13, 31)).toBe(t('2025-02-28'));
    expect(anchorDateInMonth(2024, -11, 31)).toBe(t('2023-02-28'));
    expect(anchorDateInMonth(2024, -12, 30)).toBe(t('2023-01-30'));
  });

  it('rejects bad arguments', () => {
    expect(() => anchorDateInMonth(2024, 1, 0)).toThrow(/anchor day/);
    expect(() => anchorDateInMonth(2024, 1, 32)).toThrow(/anchor day/);
    expect(() => anchorDateInMonth(2024.5, 1, 1)).toThrow(/integers/);
    expect(() => anchorDateInMonth(2024, 1.5, 1)).toThrow(/integers/);
  });
});

describe('periodContaining', () => {
  it('anchor 31: 31 Jan → 29 Feb (leap 2024) → 31 Mar, never drifting', () => {
    expect(show(periodContaining(t('2024-02-10'), 31))).toEqual(['2024-01-31', '2024-02-29']);
    expect(show(periodContaining(t('2024-03-10'), 31))).toEqual(['2024-02-29', '2024-03-31']);
    expect(show(periodContaining(t('2024-03-31'), 31))).toEqual(['2024-03-31', '2024-04-30']);
    expect(show(periodContaining(t('2024-05-01'), 31))).toEqual(['2024-04-30', '2024-05-31']);
  });

  it('anchor 31: 31 Jan → 28 Feb (2025) → 31 Mar', () => {
    expect(show(periodContaining(t('2025-02-01'), 31))).toEqual(['2025-01-31', '2025-02-28']);
    expect(show(periodContaining(t('2025-02-28'), 31))).toEqual(['2025-02-28', '2025-03-31']);
    expect(show(periodContaining(t('2025-03-30'), 31))).toEqual(['2025-02-28', '2025-03-31']);
  });

  it('anchor 30 and 29 in February', () => {
    expect(show(periodContaining(t('2025-02-28'), 30))).toEqual(['2025-02-28', '2025-03-30']);
    expect(show(periodContaining(t('2025-02-27'), 30))).toEqual(['2025-01-30', '2025-02-28']);
    expect(show(periodContaining(t('2024-02-29'), 29))).toEqual(['2024-02-29', '2024-03-29']);
    expect(show(periodContaining(t('2025-03-01'), 29))).toEqual(['2025-02-28', '2025-03-29']);
  });

  it('the boundary instant belongs to the period starting there; 1 ms before to the previous one', () => {
    const boundary = t('2024-02-29');
    expect(show(periodContaining(boundary, 31))).toEqual(['2024-02-29', '2024-03-31']);
    expect(show(periodContaining(boundary - 1, 31))).toEqual(['2024-01-31', '2024-02-29']);
    expect(periodContaining(boundary, 31).start).toBe(boundary);
    expect(periodContaining(boundary - 1, 31).end).toBe(boundary);
  });

  it('a join at the last millisecond of a period is in that period', () => {
    const lastMs = t('2024-03-14T23:59:59.999Z');
    const p = periodContaining(lastMs, 15);
    expect(show(p)).toEqual(['2024-02-15', '2024-03-15']);
    expect(p.end - 1).toBe(lastMs);
    expect(show(periodContaining(lastMs + 1, 15))).toEqual(['2024-03-15', '2024-04-15']);
  });

  it('works across the year boundary (Dec → Jan)', () => {
    expect(show(periodContaining(t('2024-12-31T12:00:00Z'), 31))).toEqual(['2024-12-31', '2025-01-31']);
    expect(show(periodContaining(t('2025-01-05'), 31))).toEqual(['2024-12-31', '2025-01-31']);
    expect(show(periodContaining(t('2025-01-01'), 1))).toEqual(['2025-01-01', '2025-02-01']);
    expect(show(periodContaining(t('2024-12-31T23:59:59.999Z'), 1))).toEqual(['2024-12-01', '2025-01-01']);
    expect(show(periodContaining(t('2025-01-10'), 15))).toEqual(['2024-12-15', '2025-01-15']);
    expect(show(periodContaining(t('2024-12-20'), 15))).toEqual(['2024-12-15', '2025-01-15']);
  });

  it('anchor 1 uses calendar months', () => {
    expect(show(periodContaining(t('2024-02-29T23:59:59.999Z'), 1))).toEqual(['2024-02-01', '2024-03-01']);
    expect(show(periodContaining(t('2024-03-01'), 1))).toEqual(['2024-03-01', '2024-04-01']);
  });

  it('ignores the time of day except for ordering', () => {
    expect(show(periodContaining(t('2024-07-15T00:00:00.001Z'), 15))).toEqual(['2024-07-15', '2024-08-15']);
    expect(show(periodContaining(t('2024-07-14T23:59:59.999Z'), 15))).toEqual(['2024-06-15', '2024-07-15']);
  });

  it('rejects bad instants and anchors', () => {
    expect(() => periodContaining(NaN, 1)).toThrow(/instant/);
    expect(() => periodContaining(Infinity, 1)).toThrow(/instant/);
    expect(() => periodContaining(1.5, 1)).toThrow(/instant/);
    expect(() => periodContaining(9e15, 1)).toThrow(/instant/);
    expect(() => periodContaining(0, 0)).toThrow(/anchor day/);
  });

  it('handles instants before the epoch', () => {
    expect(show(periodContaining(-1, 1))).toEqual(['1969-12-01', '1970-01-01']);
    expect(show(periodContaining(0, 1))).toEqual(['1970-01-01', '1970-02-01']);
    expect(show(periodContaining(t('1969-02-28'), 31))).toEqual(['1969-02-28', '1969-03-31']);
  });
});

describe('billing dates for whole years, anchors 1, 15, 28, 29, 30, 31', () => {
  // 2023 (common), 2024 (leap), 2025 (common), plus the century years 2000 (leap) and 2100 (common).
  const ranges: Array<[number, number]> = [
    [2023, 2025],
    [2000, 2000],
    [2100, 2100],
  ];
  const anchors = [1, 15, 28, 29, 30, 31];

  for (const [from, to] of ranges) {
    for (const anchor of anchors) {
      it(`anchor ${anchor}, ${from}..${to}: nextPeriod walks every billing date, periodContaining agrees`, () => {
        const expected = expectedBillingDates(anchor, from, to);
        // Walk forward with nextPeriod.
        let p = periodContaining(t(expected[0]!), anchor);
        const walked: string[] = [periodKey(p)];
        for (let i = 1; i < expected.length; i++) {
          p = nextPeriod(p, anchor);
          walked.push(periodKey(p));
        }
        expect(walked).toEqual(expected);
        // Walk back with previousPeriod.
        const back: string[] = [periodKey(p)];
        for (let i = 1; i < expected.length; i++) {
          p = previousPeriod(p, anchor);
          back.push(periodKey(p));
        }
        expect(back.reverse()).toEqual(expected);
        // Every instant family in each period maps back to that period.
        for (let i = 0; i + 1 < expected.length; i++) {
          const start = t(expected[i]!);
          const end = t(expected[i + 1]!);
          for (const instant of [start, start + 1, Math.floor((start + end) / 2), end - 1]) {
            expect(periodContaining(instant, anchor)).toEqual({ start, end });
          }
          expect(periodContaining(end, anchor).start).toBe(end);
        }
      });
    }
  }

  it('anchor 29 in 2024 vs 2025 February', () => {
    expect(expectedBillingDates(29, 2024, 2024)[2]).toBe('2024-02-29');
    expect(periodKey(periodContaining(t('2024-03-01'), 29))).toBe('2024-02-29');
    expect(periodKey(periodContaining(t('2025-03-01'), 29))).toBe('2025-02-28');
  });
});

describe('14 consecutive periods with anchor 31 from 2023-12-31', () => {
  it('lists them exactly', () => {
    const periods: BillingPeriod[] = [periodContaining(t('2023-12-31'), 31)];
    while (periods.length < 14) periods.push(nextPeriod(periods[periods.length - 1]!, 31));
    expect(periods.map(show)).toEqual([
      ['2023-12-31', '2024-01-31'],
      ['2024-01-31', '2024-02-29'],
      ['2024-02-29', '2024-03-31'],
      ['2024-03-31', '2024-04-30'],
      ['2024-04-30', '2024-05-31'],
      ['2024-05-31', '2024-06-30'],
      ['2024-06-30', '2024-07-31'],
      ['2024-07-31', '2024-08-31'],
      ['2024-08-31', '2024-09-30'],
      ['2024-09-30', '2024-10-31'],
      ['2024-10-31', '2024-11-30'],
      ['2024-11-30', '2024-12-31'],
      ['2024-12-31', '2025-01-31'],
      ['2025-01-31', '2025-02-28'],
    ]);
  });
});

describe('nextPeriod / previousPeriod', () => {
  it('are inverses', () => {
    const p = periodContaining(t('2024-02-29'), 31);
    expect(previousPeriod(nextPeriod(p, 31), 31)).toEqual(p);
    expect(nextPeriod(previousPeriod(p, 31), 31)).toEqual(p);
  });

  it('reject a period that does not belong to the anchor', () => {
    const p = periodContaining(t('2024-02-10'), 15); // 2024-01-15 .. 2024-02-15
    expect(() => nextPeriod(p, 31)).toThrow(/not a billing period for anchor day 31/);
    expect(() => previousPeriod(p, 31)).toThrow(/not a billing period/);
    expect(() => nextPeriod({ start: p.start, end: p.end + DAY }, 15)).toThrow(/not a billing period/);
    expect(() => nextPeriod(p, 0)).toThrow(/anchor day/);
  });
});

describe('periodKey', () => {
  it('is the ISO date of the start', () => {
    expect(periodKey(periodContaining(t('2024-03-01'), 31))).toBe('2024-02-29');
    expect(periodKey({ start: t('2025-01-01'), end: t('2025-02-01') })).toBe('2025-01-01');
    expect(periodKey({ start: t('0999-05-07'), end: t('0999-06-07') })).toBe('0999-05-07');
  });
});

describe('properties', () => {
  const MIN = t('1900-01-01');
  const MAX = t('2300-01-01');

  it('periodContaining contains the instant; neighbours line up; length is 28..31 whole days', () => {
    fc.assert(
      fc.property(fc.integer({ min: MIN, max: MAX }), fc.integer({ min: 1, max: 31 }), (instant, anchor) => {
        const p = periodContaining(instant, anchor);
        expect(p.start).toBeLessThanOrEqual(instant);
        expect(instant).toBeLessThan(p.end);
        expect(Math.abs(p.start % DAY)).toBe(0); // midnight UTC (abs: -0 before 1970)
        expect(Math.abs(p.end % DAY)).toBe(0);
        const days = (p.end - p.start) / DAY;
        expect(Number.isInteger(days)).toBe(true);
        expect(days).toBeGreaterThanOrEqual(28);
        expect(days).toBeLessThanOrEqual(31);
        const next = nextPeriod(p, anchor);
        expect(next.start).toBe(p.end);
        const prev = previousPeriod(p, anchor);
        expect(prev.end).toBe(p.start);
        // The start's day of month is the anchor clamped to that month's length.
        const s = new Date(p.start);
        const dim = monthLengths(s.getUTCFullYear())[s.getUTCMonth()]!;
        expect(s.getUTCDate()).toBe(Math.min(anchor, dim));
        // Stable under any instant of the same period.
        expect(periodContaining(p.start, anchor)).toEqual(p);
        expect(periodContaining(p.end - 1, anchor)).toEqual(p);
      }),
      { numRuns: 2000 },
    );
  });

  it('periodKey is the ISO date of the start', () => {
    fc.assert(
      fc.property(fc.integer({ min: MIN, max: MAX }), fc.integer({ min: 1, max: 31 }), (instant, anchor) => {
        const p = periodContaining(instant, anchor);
        expect(periodKey(p)).toBe(isoDate(p.start));
      }),
    );
  });
});

describe('the ends of the Date range', () => {
  const LAST = 8.64e15; // +275760-09-13T00:00:00.000Z, the last instant a Date holds
  const FIRST = -8.64e15; // -271821-04-20T00:00:00.000Z

  it('keys periods of years beyond 0..9999 with a sign and six digits', () => {
    expect(periodKey({ start: LAST, end: LAST })).toBe('+275760-09-13');
    expect(periodKey({ start: FIRST, end: FIRST })).toBe('-271821-04-20');
    expect(periodKey({ start: t('+010000-01-01'), end: 0 })).toBe('+010000-01-01');
    expect(periodKey({ start: t('9999-12-01'), end: 0 })).toBe('9999-12-01');
    expect(periodKey({ start: t('0000-03-01'), end: 0 })).toBe('0000-03-01');
    expect(periodKey({ start: t('-000001-12-01'), end: 0 })).toBe('-000001-12-01');
  });

  it('accepts instants up to the last one a Date holds, not one more', () => {
    expect(() => periodKey({ start: LAST + 1, end: 0 })).toThrow(
      'instant must be an integer number of epoch milliseconds within the Date range, got 8640000000000001',
    );
    expect(() => periodKey({ start: FIRST - 1, end: 0 })).toThrow(/within the Date range, got -8640000000000001/);
    // September 275760 ends after the last instant: its length, so its billing date, cannot be known.
    expect(() => periodContaining(LAST, 1)).toThrow('billing date out of range: year 275760, month index 8');
    expect(() => anchorDateInMonth(275761, -4, 1)).toThrow('billing date out of range: year 275760, month index 8');
    expect(anchorDateInMonth(275760, 7, 31)).toBe(t('+275760-08-31'));
  });
});

describe('error messages', () => {
  it.each<[unknown, string]>([
    ['15', '"15"'],
    [true, 'true'],
    [15n, '15'],
    [null, 'null'],
    [undefined, 'undefined'],
    [{}, 'object'],
    [1.5, '1.5'],
  ])('describe the rejected anchor day %p as %s', (day, shown) => {
    expect(() => assertAnchorDay(day)).toThrow(`billing anchor day must be an integer from 1 to 31, got ${shown}`);
  });

  it('name the year and month index, and the expected period', () => {
    expect(() => anchorDateInMonth(2024.5, 1, 1)).toThrow('year and month index must be integers, got 2024.5 and 1');
    expect(() => periodContaining('2024-01-01' as unknown as number, 1)).toThrow(/got "2024-01-01"$/);
    const p = periodContaining(t('2024-02-10'), 15); // 2024-01-15 .. 2024-02-15
    expect(() => nextPeriod({ start: p.start + DAY, end: p.end }, 15)).toThrow(
      `not a billing period for anchor day 15: start ${p.start + DAY}, end ${p.end} ` +
        `(expected start ${p.start}, end ${p.end})`,
    );
  });
});

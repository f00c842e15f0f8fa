/**
 * `parseAmount`: credits from a request body as millicredits, with every malformed amount a 400 (`ApiError`)
 * carrying the parser's message; anything else that goes wrong is not turned into a 400.
 */
import { parseAmount } from '../../src/api/views';
import { ApiError } from '../../src/errors';

/** What `parseAmount` throws for these arguments. */
function thrown(...args: Parameters<typeof parseAmount>): unknown {
  try {
    parseAmount(...args);
  } catch (err) {
    return err;
  }
  throw new Error(`expected parseAmount(${String(args[0])}) to throw`);
}
const badRequest = (message: string | RegExp) =>
  expect.objectContaining({
    name: 'ApiError',
    status: 400,
    code: 'invalid_request',
    message: typeof message === 'string' ? message : expect.stringMatching(message),
  });

describe('parseAmount', () => {
  it('parses decimal strings and numbers into millicredits', () => {
    expect(parseAmount('12.5')).toBe(12_500);
    expect(parseAmount(0.001)).toBe(1);
    expect(parseAmount('9000')).toBe(9_000_000);
  });

  it('refuses 0 unless asked to allow it', () => {
    expect(thrown('0')).toEqual(badRequest('credits must be greater than 0'));
    expect(thrown('0', 5_000)).toEqual(badRequest('credits must be greater than 0'));
    expect(parseAmount('0', undefined, true)).toBe(0);
    expect(parseAmount(0, 5_000, true)).toBe(0);
  });

  it('applies the maximum when one is given, and none otherwise', () => {
    expect(parseAmount('4', 4_000)).toBe(4_000);
    expect(thrown('4.001', 4_000)).toEqual(badRequest('credits must be at most 4'));
    expect(parseAmount('4.001')).toBe(4_001);
  });

  it('turns malformed amounts and a bad maximum into a 400 with the reason', () => {
    const err = thrown('-1');
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toEqual(badRequest('credits must not be negative'));
    expect(thrown('1.0001')).toEqual(badRequest('credits must have at most 3 decimal places'));
    expect(thrown(null)).toEqual(badRequest('credits must be a number or a decimal string, got null'));
    // A RangeError (the maximum itself is invalid) is a 400 too.
    expect(thrown('1', -1)).toEqual(badRequest(/^max must be a non-negative safe integer/));
  });

  it('lets an error that is not about the amount through unchanged', () => {
    // A revoked proxy makes the parser's own type check throw a TypeError: not the client's fault, not a 400.
    const { proxy, revoke } = Proxy.revocable([], {});
    revoke();
    const err = thrown(proxy);
    expect(err).toBeInstanceOf(TypeError);
    expect(err).not.toBeInstanceOf(ApiError);
  });
});

import { checkProvisioningToken, DEFAULT_RATE_LIMITS, loadConfig } from '../../src/config';

describe('provisioning token', () => {
  it('is refused below 32 characters, or with characters no Authorization header can carry', () => {
    for (const token of ['x', 'test-provisioning-token', 'a'.repeat(31), `${'a'.repeat(31)} `, 'é'.repeat(40)]) {
      expect(() => checkProvisioningToken(token)).toThrow(/PROVISIONING_TOKEN/);
    }
    expect(() => checkProvisioningToken('a'.repeat(513))).toThrow(/at most 512/);
    for (const token of ['a'.repeat(32), `prov_${'Z9_-'.repeat(10)}`])
      expect(checkProvisioningToken(token)).toBe(token);
  });
});

describe('rate limits from the environment', () => {
  it('default to 600 and 6,000 a minute; take positive integers; refuse anything else', () => {
    expect(loadConfig({}).rateLimits).toEqual(DEFAULT_RATE_LIMITS);
    expect(DEFAULT_RATE_LIMITS).toEqual({ perMinute: 600, agentPerMinute: 6_000 });
    expect(loadConfig({ RATE_LIMIT_PER_MINUTE: '60', RATE_LIMIT_AGENT_PER_MINUTE: '120000' }).rateLimits).toEqual({
      perMinute: 60,
      agentPerMinute: 120_000,
    });
    for (const bad of ['0', '-5', '1.5', 'ten', '1e3', ' 60']) {
      expect(() => loadConfig({ RATE_LIMIT_PER_MINUTE: bad })).toThrow(/RATE_LIMIT_PER_MINUTE/);
      expect(() => loadConfig({ RATE_LIMIT_AGENT_PER_MINUTE: bad })).toThrow(/RATE_LIMIT_AGENT_PER_MINUTE/);
    }
  });
});

/**
 * The production logger (src/api/server.ts `createLogger`) redacts tokens wherever a log line could carry the
 * request's headers. Fastify's own request lines do not include headers (test/e2e/api-fuzz.test.ts checks the
 * API's log as it runs), so this is what stops a token the day something logs a request with its headers.
 */
import { Writable } from 'node:stream';
import { createLogger } from '../../src/api/server';

const TOKEN = 'aic_secret-token-value-0123456789';

function capture() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return { logger: createLogger('trace', sink), text: () => lines.join('') };
}

describe('production logger', () => {
  it('writes [redacted] for the Authorization and Cookie headers of a logged request or response', () => {
    const { logger, text } = capture();
    const headers = { authorization: `Bearer ${TOKEN}`, cookie: `session=${TOKEN}`, host: 'api.example' };
    logger.info({ req: { method: 'GET', url: '/v1/me', headers } }, 'incoming request');
    logger.warn({ headers: { authorization: `Bearer ${TOKEN}` } }, 'outgoing call failed');
    logger.info({ res: { statusCode: 200, headers: { 'set-cookie': `session=${TOKEN}` } } }, 'request completed');
    const lines = text()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, { headers: Record<string, string> }>);
    expect(lines[0].req.headers).toEqual({ authorization: '[redacted]', cookie: '[redacted]', host: 'api.example' });
    expect(lines[1].headers).toEqual({ authorization: '[redacted]' });
    expect(lines[2].res.headers).toEqual({ 'set-cookie': '[redacted]' });
    expect(text()).not.toContain(TOKEN);
  });
});

/**
 * A removed member's token is refused by the member's status alone. Removal also revokes the member's tokens
 * (src/api/routes/members.ts), which would hide a missing status check: here the member is marked removed and the
 * token row is left as it was (not revoked), on the real PostgreSQL stores the API uses.
 */
import { Authenticator } from '../../src/api/auth';
import { AccessChangeStore } from '../../src/db/access-change-store';
import { TokenStore } from '../../src/db/token-store';
import { createHarness, eventually, seedTeam, type Harness } from '../support/harness';

let h: Harness;
let tokens: TokenStore;
beforeAll(async () => {
  h = await createHarness();
  tokens = new TokenStore(h.db);
});
afterAll(() => h?.close());

const refused = (err: unknown) => {
  expect(err).toMatchObject({ status: 401, code: 'unauthorized' });
  expect((err as Error).message).toBe('this member is no longer in the team');
};
const rejection = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (err: unknown) => err,
  );

describe('a removed member whose token was not revoked', () => {
  it('is refused at the next look-up', async () => {
    const teamId = await seedTeam(h, { members: [{ userId: 'gone' }, { userId: 'stays' }] });
    const gone = await tokens.issue({ kind: 'member', teamId, userId: 'gone' });
    const stays = await tokens.issue({ kind: 'member', teamId, userId: 'stays' });
    const auth = new Authenticator(tokens, h.teams, undefined); // no change store: every call reads PostgreSQL
    await expect(auth.authenticate(`Bearer ${gone}`)).resolves.toMatchObject({ kind: 'member', userId: 'gone' });

    expect(await h.teams.markRemoved(teamId, 'gone')).toBe(true);
    expect((await tokens.lookup(gone))?.revokedAt).toBeNull();
    refused(await rejection(auth.authenticate(`Bearer ${gone}`)));
    await expect(auth.authenticate(`Bearer ${stays}`)).resolves.toMatchObject({ kind: 'member', userId: 'stays' });
  });

  it('is refused once the change is published, also when its principal was cached', async () => {
    const teamId = await seedTeam(h, { members: [{ userId: 'gone' }] });
    const gone = await tokens.issue({ kind: 'member', teamId, userId: 'gone' });
    const changes = new AccessChangeStore(h.db);
    const auth = new Authenticator(tokens, h.teams, undefined, changes, { cacheMs: 60_000 });
    await auth.start();
    try {
      await expect(auth.authenticate(`Bearer ${gone}`)).resolves.toMatchObject({ userId: 'gone' });
      // What the removal route does, less the revocation: the status changes and the change is published.
      await h.db.transaction(async (trx) => {
        await trx('members').where({ team_id: teamId, user_id: 'gone' }).update({ status: 'removed' });
        await new AccessChangeStore(trx).publish({ kind: 'member', teamId, userId: 'gone' });
      });
      expect((await tokens.lookup(gone))?.revokedAt).toBeNull();
      refused(await eventually(() => rejection(auth.authenticate(`Bearer ${gone}`))));
    } finally {
      await auth.stop();
    }
  });
});

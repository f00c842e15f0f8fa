/**
 * Changes of who may do what, shared by every API instance through PostgreSQL: a token revoked, a member removed, a
 * member's roles changed. The writer publishes in the transaction of the change: the version row is bumped and a
 * NOTIFY is queued, which PostgreSQL delivers to every listener when (and only if) the transaction commits, in commit
 * order. The version lets a listener notice what it missed while its connection was down.
 */
import type { Knex } from 'knex';
import type pg from 'pg';

export const ACCESS_CHANNEL = 'ai_credits_access';

export type AccessChange = { kind: 'token'; tokenId: string } | { kind: 'member'; teamId: string; userId: string };

/** A change as it arrives: with the version it made; `null` when the payload could not be read. */
export type AccessNotice = { version: number; change: AccessChange } | null;

export class AccessChangeStore {
  constructor(private readonly db: Knex) {}

  /** Call inside the transaction of the change; returns the new version. */
  async publish(change: AccessChange): Promise<number> {
    const [row] = await this.db('access_version')
      .where('id', true)
      .update({ version: this.db.raw('version + 1'), changed_at: this.db.fn.now() })
      .returning('version');
    const version = Number(row.version);
    await this.db.raw('select pg_notify(?, ?)', [ACCESS_CHANNEL, JSON.stringify({ version, ...change })]);
    return version;
  }

  async version(): Promise<number> {
    const row = await this.db('access_version').where('id', true).first('version');
    return Number(row?.version ?? 0);
  }

  /**
   * LISTENs on a dedicated connection (outside the pool, which would hand it to queries). Returns once listening.
   * `onLost` is called when the connection ends or fails; the caller decides when to listen again.
   */
  async listen(onNotice: (notice: AccessNotice) => void, onLost: (err: unknown) => void): Promise<AccessListener> {
    const client = this.db.client as {
      acquireRawConnection(): Promise<pg.Client>;
      destroyRawConnection(c: pg.Client): Promise<void>;
    };
    const connection = await client.acquireRawConnection();
    let closed = false;
    const lost = (err: unknown) => {
      if (closed) return;
      closed = true;
      connection.removeAllListeners('notification');
      void client.destroyRawConnection(connection).catch(() => undefined);
      onLost(err);
    };
    connection.on('notification', (msg) => {
      if (msg.channel === ACCESS_CHANNEL) onNotice(parseNotice(msg.payload));
    });
    connection.on('error', lost);
    connection.on('end', () => lost(new Error('the LISTEN connection ended')));
    try {
      await connection.query(`listen ${ACCESS_CHANNEL}`);
    } catch (err) {
      lost(err);
      throw err;
    }
    return {
      close: async () => {
        if (closed) return;
        closed = true;
        connection.removeAllListeners();
        connection.on('error', () => undefined);
        await client.destroyRawConnection(connection).catch(() => undefined);
      },
    };
  }
}

export interface AccessListener {
  close(): Promise<void>;
}

function parseNotice(payload: string | undefined): AccessNotice {
  try {
    const p = JSON.parse(payload ?? '') as Record<string, unknown>;
    const version = Number(p.version);
    if (!Number.isSafeInteger(version)) return null;
    if (p.kind === 'token' && typeof p.tokenId === 'string') {
      return { version, change: { kind: 'token', tokenId: p.tokenId } };
    }
    if (p.kind === 'member' && typeof p.teamId === 'string' && typeof p.userId === 'string') {
      return { version, change: { kind: 'member', teamId: p.teamId, userId: p.userId } };
    }
    return null;
  } catch {
    return null;
  }
}

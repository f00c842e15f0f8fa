import type { Knex } from 'knex';

export type Role = 'member' | 'admin' | 'billing';
export const ROLES: readonly Role[] = ['member', 'admin', 'billing'];

export interface Team {
  teamId: string;
  /** The plan in force now (a downgrade whose date has come is the plan). */
  plan: string;
  /** A downgrade waiting for the next billing date (spec §16), if any. */
  pendingPlan: { plan: string; from: number } | null;
  billingAnchorDay: number;
  paygThresholdMinor: number | null;
  /** The team's monthly PAYG cap, minor units (null: none). */
  paygCapMinor: number | null;
  currency: string;
  createdAt: number;
}

export interface Member {
  teamId: string;
  userId: string;
  email: string;
  roles: Role[];
  status: 'active' | 'removed';
  joinedAt: number;
  removedAt: number | null;
  /** PAYG as Billing last set it for this member (null: never set, the plan default). */
  paygEnabled: boolean | null;
  /** The member's monthly PAYG cap, minor units (null: none). */
  paygCapMinor: number | null;
}

interface TeamRow {
  team_id: string;
  plan: string;
  billing_anchor_day: number;
  payg_threshold_minor: number | null;
  payg_cap_minor: number | null;
  currency: string;
  created_at: Date;
  pending_plan: string | null;
  pending_plan_from: Date | null;
}

interface MemberRow {
  team_id: string;
  user_id: string;
  email: string;
  roles: Role[];
  status: 'active' | 'removed';
  joined_at: Date;
  removed_at: Date | null;
  payg_enabled: boolean | null;
  payg_cap_minor: number | null;
}

/** Teams and members: the provisioning side of the product. */
export class TeamStore {
  constructor(private readonly db: Knex) {}

  /** Creates the team; returns false when it exists already. */
  async createTeam(team: Omit<Team, 'createdAt' | 'paygCapMinor' | 'pendingPlan'>): Promise<boolean> {
    const inserted = await this.db('teams')
      .insert({
        team_id: team.teamId,
        plan: team.plan,
        billing_anchor_day: team.billingAnchorDay,
        payg_threshold_minor: team.paygThresholdMinor,
        currency: team.currency,
      })
      .onConflict('team_id')
      .ignore()
      .returning('team_id');
    return inserted.length > 0;
  }

  /**
   * The team, its row locked until the transaction ends (call inside one): changes of a team's members are made one
   * at a time, so "is this the last Billing member?" stays true until the change that relies on it commits.
   */
  async lockTeam(teamId: string): Promise<Team | null> {
    const row = await this.db<TeamRow>('teams').where('team_id', teamId).forUpdate().first();
    return row ? toTeam(row) : null;
  }

  /**
   * The team's plan from now on (`pending: null`), or from `pending.from` on (a downgrade at the next billing date;
   * the plan stays as it is until then). Either replaces a downgrade that was waiting.
   */
  async setPlan(teamId: string, plan: string, pending: { plan: string; from: number } | null): Promise<void> {
    await this.db('teams')
      .where('team_id', teamId)
      .update(
        pending
          ? { plan, pending_plan: pending.plan, pending_plan_from: new Date(pending.from) }
          : { plan, pending_plan: null, pending_plan_from: null },
      );
  }

  /** The plan the team is on at `at` (a member's next period opens on it). */
  async planAt(teamId: string, at: number): Promise<string | null> {
    const row = await this.db<TeamRow>('teams').where('team_id', teamId).first();
    return row ? toTeam(row, at).plan : null;
  }

  /** Active members holding `role`, leaving out `exceptUserId`. */
  async countWithRole(teamId: string, role: Role, exceptUserId?: string): Promise<number> {
    const q = this.db('members').where({ team_id: teamId, status: 'active' }).andWhereRaw('? = any(roles)', [role]);
    if (exceptUserId !== undefined) q.andWhereNot('user_id', exceptUserId);
    const [{ n }] = await q.count({ n: '*' });
    return Number(n);
  }

  async getTeam(teamId: string): Promise<Team | null> {
    const row = await this.db<TeamRow>('teams').where('team_id', teamId).first();
    return row ? toTeam(row) : null;
  }

  async listTeams(): Promise<Team[]> {
    return (await this.db<TeamRow>('teams').orderBy('team_id')).map(toTeam);
  }

  /** Adds or updates a member (re-adding a removed member makes them active again). */
  async upsertMember(m: { teamId: string; userId: string; email: string; roles: Role[] }): Promise<Member> {
    const [row] = await this.db<MemberRow>('members')
      .insert({ team_id: m.teamId, user_id: m.userId, email: m.email, roles: m.roles, status: 'active' })
      .onConflict(['team_id', 'user_id'])
      .merge({
        email: m.email,
        roles: m.roles,
        status: 'active',
        removed_at: null,
        joined_at: this.db.raw(`case when members.status = 'removed' then now() else members.joined_at end`),
      })
      .returning('*');
    return toMember(row);
  }

  async getMember(teamId: string, userId: string): Promise<Member | null> {
    const row = await this.db<MemberRow>('members').where({ team_id: teamId, user_id: userId }).first();
    return row ? toMember(row) : null;
  }

  async listMembers(teamId: string, opts: { includeRemoved?: boolean } = {}): Promise<Member[]> {
    const q = this.db<MemberRow>('members').where('team_id', teamId).orderBy('user_id');
    if (!opts.includeRemoved) q.andWhere('status', 'active');
    return (await q).map(toMember);
  }

  async markRemoved(teamId: string, userId: string): Promise<boolean> {
    const n = await this.db('members')
      .where({ team_id: teamId, user_id: userId, status: 'active' })
      .update({ status: 'removed', removed_at: this.db.fn.now() });
    return n > 0;
  }

  async setTeamPaygCap(teamId: string, capMinor: number | null): Promise<void> {
    await this.db('teams').where('team_id', teamId).update({ payg_cap_minor: capMinor });
  }

  /** The member, its row locked until the transaction ends (call inside one): one PAYG change at a time. */
  async lockMember(teamId: string, userId: string): Promise<Member | null> {
    const row = await this.db<MemberRow>('members').where({ team_id: teamId, user_id: userId }).forUpdate().first();
    return row ? toMember(row) : null;
  }

  /** Remember Billing's PAYG choice for the member (it outlives a removal and re-add); absent fields are unchanged. */
  async setPayg(
    teamId: string,
    userId: string,
    setting: { enabled?: boolean; monthlyCapMinor?: number | null },
  ): Promise<void> {
    await this.db('members')
      .where({ team_id: teamId, user_id: userId })
      .update({
        ...(setting.enabled === undefined ? {} : { payg_enabled: setting.enabled }),
        ...(setting.monthlyCapMinor === undefined ? {} : { payg_cap_minor: setting.monthlyCapMinor }),
      });
  }

  /** Active members holding any of the roles: who receives the team's emails. */
  async contacts(teamId: string, roles: Role[]): Promise<Member[]> {
    const rows = await this.db<MemberRow>('members')
      .where({ team_id: teamId, status: 'active' })
      .andWhereRaw('roles && ?::text[]', [roles])
      .orderBy('user_id');
    return rows.map(toMember);
  }
}

/** The row as of `at`: a pending downgrade whose date has come is the plan. */
function toTeam(r: TeamRow, at = Date.now()): Team {
  const due = r.pending_plan !== null && r.pending_plan_from !== null && r.pending_plan_from.getTime() <= at;
  return {
    teamId: r.team_id,
    plan: due ? (r.pending_plan as string) : r.plan,
    pendingPlan:
      r.pending_plan !== null && r.pending_plan_from !== null && !due
        ? { plan: r.pending_plan, from: r.pending_plan_from.getTime() }
        : null,
    billingAnchorDay: r.billing_anchor_day,
    paygThresholdMinor: r.payg_threshold_minor,
    paygCapMinor: r.payg_cap_minor ?? null,
    currency: r.currency,
    createdAt: r.created_at.getTime(),
  };
}

function toMember(r: MemberRow): Member {
  return {
    teamId: r.team_id,
    userId: r.user_id,
    email: r.email,
    roles: r.roles,
    status: r.status,
    joinedAt: r.joined_at.getTime(),
    removedAt: r.removed_at ? r.removed_at.getTime() : null,
    paygEnabled: r.payg_enabled,
    paygCapMinor: r.payg_cap_minor ?? null,
  };
}

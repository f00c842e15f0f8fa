/** Invoices with their lines, and the open invoice's preview (Billing, finance). */
import { formatCredits } from '../../../workflows/domain/credits';
import { notFound } from '../../errors';
import type { RouteContext } from '../context';
import { described, errorResponses, idCursor, pageQuery, pageSize, teamParams } from '../schemas';
import { iso } from '../views';

const invoiceParams = {
  type: 'object',
  properties: { teamId: teamParams.properties.teamId, invoiceId: { type: 'string', pattern: '^[0-9]{1,15}$' } },
  required: ['teamId', 'invoiceId'],
} as const;

const invoiceListQuery = {
  type: 'object',
  properties: { limit: pageQuery.properties.limit, cursor: idCursor },
  additionalProperties: false,
} as const;

export function invoiceRoutes({ app, deps, guard, loadTeam }: RouteContext): void {
  app.get(
    '/v1/teams/:teamId/invoices',
    {
      schema: {
        summary: "List a team's invoices",
        operationId: 'listInvoices',
        tags: ['invoices'],
        description: 'Billing or finance: newest first, without lines.',
        params: teamParams,
        querystring: invoiceListQuery,
        response: { 200: described('A page of invoices, newest first'), ...errorResponses({ 400: true, 404: true }) },
      },
      onRequest: guard('billing', 'finance'),
    },
    async (req) => {
      const { teamId } = req.params as { teamId: string };
      const { limit, cursor } = req.query as { limit?: string; cursor?: string };
      await loadTeam(teamId);
      const page = await deps.invoices.page(teamId, {
        before: cursor === undefined ? undefined : Number(cursor),
        limit: pageSize(limit),
      });
      return {
        invoices: page.invoices.map(invoiceView),
        nextCursor: page.next === null ? null : String(page.next),
      };
    },
  );

  app.get(
    '/v1/teams/:teamId/invoices/preview',
    {
      schema: {
        summary: 'Preview the open invoice',
        operationId: 'getInvoicePreview',
        tags: ['invoices'],
        description:
          "Billing or finance: the charges posted so far and the PAYG accruing this period, until the period's " +
          'invoice is finalized.',
        params: teamParams,
        response: {
          200: described('Posted lines, accruing PAYG and the estimated total'),
          ...errorResponses({ 400: true, 404: true }),
        },
      },
      onRequest: guard('billing', 'finance'),
    },
    async (req) => {
      const { teamId } = req.params as { teamId: string };
      const team = await loadTeam(teamId);
      const [cycle, invoices, accruing] = await Promise.all([
        deps.credits.members.teamBilling(teamId),
        deps.invoices.list(teamId),
        deps.credits.accruingPayg(teamId),
      ]);
      const open = invoices.find((i) => i.status === 'open');
      const posted = open ? ((await deps.invoices.get(teamId, open.invoiceId))?.lines ?? []) : [];
      const postedMinor = posted.reduce((sum, l) => sum + l.amountMinor, 0);
      const accruingMinor = accruing.reduce((sum, a) => sum + a.amountMinor, 0);
      return {
        teamId,
        periodStart: iso(cycle.periodStart),
        periodEnd: iso(cycle.periodEnd),
        finalizesAt: iso(cycle.invoiceFinalizesAt),
        openInvoiceId: open?.invoiceId ?? null,
        posted: posted.map((l) => ({
          userId: l.userId,
          kind: l.kind,
          description: l.description,
          credits: formatCredits(l.millicredits),
          rateMicrosPerCredit: l.rateMicrosPerCredit,
          amount: { amountMinor: l.amountMinor, currency: l.currency },
        })),
        accruingPayg: accruing.map((a) => ({
          userId: a.userId,
          paygCredits: formatCredits(a.paygCredits),
          amount: { amountMinor: a.amountMinor, currency: team.currency },
        })),
        estimatedTotal: { amountMinor: postedMinor + accruingMinor, currency: team.currency },
      };
    },
  );

  app.get(
    '/v1/teams/:teamId/invoices/:invoiceId',
    {
      schema: {
        summary: 'Read an invoice with its lines',
        operationId: 'getInvoice',
        tags: ['invoices'],
        description: 'Billing or finance.',
        params: invoiceParams,
        response: {
          200: described('The invoice with its lines'),
          ...errorResponses({ 400: true, 404: 'No such team or invoice (`not_found`)' }),
        },
      },
      onRequest: guard('billing', 'finance'),
    },
    async (req) => {
      const { teamId, invoiceId } = req.params as { teamId: string; invoiceId: string };
      const invoice = await deps.invoices.get(teamId, invoiceId);
      if (!invoice) throw notFound(`invoice ${invoiceId} not found`);
      return {
        ...invoiceView(invoice),
        lines: invoice.lines.map((l) => ({
          userId: l.userId,
          kind: l.kind,
          description: l.description,
          periodStart: iso(l.periodStart),
          periodEnd: iso(l.periodEnd),
          credits: formatCredits(l.millicredits),
          rateMicrosPerCredit: l.rateMicrosPerCredit,
          amount: { amountMinor: l.amountMinor, currency: l.currency },
          postedAt: iso(l.postedAt),
        })),
      };
    },
  );
}

function invoiceView(i: {
  invoiceId: string;
  sequence: number;
  status: string;
  currency: string;
  totalMinor: number;
  openedAt: number;
  finalizedAt: number | null;
}) {
  return {
    invoiceId: i.invoiceId,
    sequence: i.sequence,
    status: i.status,
    total: { amountMinor: i.totalMinor, currency: i.currency },
    openedAt: iso(i.openedAt),
    finalizedAt: i.finalizedAt === null ? null : iso(i.finalizedAt),
  };
}

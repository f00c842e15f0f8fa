/**
 * Generated from the API's /openapi.json by openapi-typescript (npm run client:generate). Do not edit:
 * `npm run client:check` fails when this file differs from what the server generates.
 */

export interface paths {
    "/v1/teams": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Create a team
         * @description Provisioning only. The team starts its first billing period at once.
         */
        post: operations["createTeam"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/teams/{teamId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        /**
         * Change a team's plan
         * @description Provisioning or Billing. An upgrade applies at once (allowances grow by the difference, the new PAYG rate from now on); a downgrade waits for the next billing date (pending); the current plan cancels a pending one.
         */
        patch: operations["changeTeamPlan"];
        trace?: never;
    };
    "/v1/teams/{teamId}/payg-cap": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /**
         * Set the team's monthly PAYG cap
         * @description Billing only. The team's PAYG charges of a period never pass it, whichever members spend: past it, consumptions and reservations are refused with `team_payg_cap_reached`. Null removes it.
         */
        put: operations["setTeamPaygCap"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/teams/{teamId}/members/{userId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /**
         * Add or update a member
         * @description Provisioning or a team admin. Only provisioning or a Billing member grants or takes the billing role, or changes a Billing member. A member added mid-period gets the full allowance at once.
         */
        put: operations["putMember"];
        post?: never;
        /**
         * Remove a member
         * @description Provisioning or a team admin (a Billing member only by provisioning or Billing). Closes the member's period (unused credits expire, PAYG charges are posted) and revokes their tokens.
         */
        delete: operations["removeMember"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/tokens": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Issue a token
         * @description Provisioning only. A member token acts as that member; a service token (`agent` or `finance`) acts for the team it names, or for every team with `scope: "global"`.
         */
        post: operations["issueToken"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/tokens/{tokenId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Revoke a token
         * @description Provisioning, or an admin of the token's team (a Billing member's token only by Billing). Every API instance refuses the token within a second.
         */
        delete: operations["revokeToken"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/teams/{teamId}/tokens": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List a team's tokens
         * @description Provisioning or a team admin: label, owner, created, last used, expiry; never the secret.
         */
        get: operations["listTeamTokens"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/teams/{teamId}/members/{userId}/consumptions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Record a consumption
         * @description The agent service or the member. Answers at once whether the action is allowed (from credits, or billed as pay-as-you-go) or refused (402: nothing recorded). `requestId` makes it idempotent: the same id again answers the first answer.
         */
        post: operations["consume"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/teams/{teamId}/members/{userId}/reservations": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Reserve credits for an action
         * @description The agent service or the member. Holds up to `credits` for an action whose cost is known only after it ran: they leave `remaining` at once, nothing is charged until settled. Refused (402: nothing held) as a consumption would be. `reservationId` makes it idempotent: the same id again answers the first answer.
         */
        post: operations["reserve"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/teams/{teamId}/members/{userId}/reservations/{reservationId}/settle": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Settle a reservation at its real cost
         * @description Records `credits` (0 ≤ credits ≤ held) as a consumption, with its thresholds, notifications and PAYG charge, and gives the rest back. The same settle again answers the first answer.
         */
        post: operations["settleReservation"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/teams/{teamId}/members/{userId}/reservations/{reservationId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Release a reservation
         * @description Gives the held credits back without charging anything. The same release again answers the same.
         */
        delete: operations["releaseReservation"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/teams/{teamId}/members/{userId}/credits": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Read a member's credits
         * @description The member, a team admin, Billing or finance: the live balance of the current period.
         */
        get: operations["getMemberCredits"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/teams/{teamId}/members/{userId}/payg": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /**
         * Turn pay-as-you-go on or off for a member
         * @description Billing only. Off while in overage pauses the member at once; on resumes at once. `monthlyCapMinor` caps the member's PAYG charges of a period (null: no cap; absent: unchanged): past it, consumptions and reservations are refused with `payg_cap_reached`.
         */
        put: operations["setPayg"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/teams/{teamId}/members/{userId}/credit-purchases": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Buy credits for a member
         * @description Billing only, on plans that sell credits. Added to the current period, spent after the allowance, charged on the open invoice at once. `purchaseId` makes it idempotent.
         */
        post: operations["purchaseCredits"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/teams/{teamId}/usage": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Every member's balance this period
         * @description A team admin or Billing: the dashboard's table, a page of members at a time, by user id.
         */
        get: operations["getTeamUsage"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/teams/{teamId}/members/{userId}/usage/daily": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A member's usage per day this billing period
         * @description The member, a team admin, Billing or finance.
         */
        get: operations["getMemberDailyUsage"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/teams/{teamId}/usage/daily": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The team's usage per day this billing period, with its PAYG threshold and cap
         * @description A team admin or Billing.
         */
        get: operations["getTeamDailyUsage"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/me/alerts": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * My in-product alerts
         * @description A member token: the caller's alerts (75 %, 100 %, PAYG started), newest first.
         */
        get: operations["listMyAlerts"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/me": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Who am I
         * @description A member token: the caller's team, user id, email and roles.
         */
        get: operations["getMe"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/teams/{teamId}/invoices": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List a team's invoices
         * @description Billing or finance: newest first, without lines.
         */
        get: operations["listInvoices"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/teams/{teamId}/invoices/preview": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Preview the open invoice
         * @description Billing or finance: the charges posted so far and the PAYG accruing this period, until the period's invoice is finalized.
         */
        get: operations["getInvoicePreview"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/teams/{teamId}/invoices/{invoiceId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Read an invoice with its lines
         * @description Billing or finance.
         */
        get: operations["getInvoice"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/teams/{teamId}/ledger": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Read a team's ledger
         * @description Finance only: grants, consumption, PAYG, purchases, expiries and adjustments in id order, optionally of one period or member.
         */
        get: operations["listLedger"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/teams/{teamId}/audit": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Read a team's audit trail
         * @description A team admin, Billing or finance: members added, changed or removed, tokens issued and revoked, PAYG toggled, caps set, credits bought; oldest first. Never a token itself.
         */
        get: operations["listAudit"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/teams/{teamId}/webhooks": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List a team's webhook endpoints */
        get: operations["listWebhooks"];
        put?: never;
        /**
         * Register a webhook endpoint
         * @description Admin or Billing. The signing secret is in this answer only.
         */
        post: operations["createWebhook"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/teams/{teamId}/webhooks/{webhookId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Read a webhook endpoint */
        get: operations["getWebhook"];
        /** Create or replace a webhook endpoint by id */
        put: operations["putWebhook"];
        post?: never;
        /** Delete a webhook endpoint */
        delete: operations["deleteWebhook"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/teams/{teamId}/webhooks/{webhookId}/deliveries": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * An endpoint's delivery log
         * @description Deliveries newest first, each with its attempts (status, latency, error) and next retry.
         */
        get: operations["listWebhookDeliveries"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/teams/{teamId}/webhooks/{webhookId}/deliveries/{deliveryId}/redeliver": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Deliver an event again
         * @description The same event id and body, to the same endpoint, as a new delivery.
         */
        post: operations["redeliverWebhook"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: never;
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    createTeam: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    teamId: string;
                    plan: string;
                    billingAnchorDay: number;
                    paygThresholdMinor?: number;
                };
            };
        };
        responses: {
            /** @description The team as created */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": unknown;
                };
            };
            /** @description Bad input (`invalid_request`): the message says which field and why */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description No valid bearer token (`unauthorized`): missing, unknown, expired or revoked */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description This token may not do that (`forbidden`) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description A team with this teamId exists already (`conflict`) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description The request body is larger than 16 KiB (`too_large`) */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Over this token's request rate limit (`rate_limited`): retry after `Retry-After` seconds */
            429: {
                headers: {
                    /** @description Seconds until the limit resets */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Not completed now (`unavailable`): retry with the same ids and body, which makes it safe */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
        };
    };
    changeTeamPlan: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                teamId: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    plan: string;
                };
            };
        };
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        teamId: string;
                        /** @description The plan in force now */
                        plan: string;
                        /** @description A downgrade waiting for the next billing date */
                        pendingPlan: {
                            plan: string;
                            /** Format: date-time */
                            from: string;
                        } | null;
                        /**
                         * @description upgrade: at once (allowances grow, the new PAYG rate applies); downgrade: at the next billing date; cancelled: a pending downgrade dropped (back to the current plan)
                         * @enum {string}
                         */
                        change: "upgrade" | "downgrade" | "cancelled" | "none";
                        /** @description Running member periods the upgrade reached before the answer (null: still under way) */
                        membersUpdated?: number | null;
                    };
                };
            };
            /** @description Bad input (`invalid_request`): the message says which field and why */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description No valid bearer token (`unauthorized`): missing, unknown, expired or revoked */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description This token may not do that (`forbidden`) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description No such team or member (`not_found`); another team's resources answer 404 too */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description The request body is larger than 16 KiB (`too_large`) */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Over this token's request rate limit (`rate_limited`): retry after `Retry-After` seconds */
            429: {
                headers: {
                    /** @description Seconds until the limit resets */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Not completed now (`unavailable`): retry with the same ids and body, which makes it safe */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
        };
    };
    setTeamPaygCap: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                teamId: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @description Monthly cap on the team's PAYG charges; null: none */
                    monthlyCapMinor: number | null;
                };
            };
        };
        responses: {
            /** @description The cap as set */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        teamId: string;
                        monthlyCap: {
                            amountMinor: number;
                            currency: string;
                        } | null;
                    };
                };
            };
            /** @description Bad input (`invalid_request`): the message says which field and why */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description No valid bearer token (`unauthorized`): missing, unknown, expired or revoked */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description This token may not do that (`forbidden`) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description No such team (`not_found`) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description The request body is larger than 16 KiB (`too_large`) */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Over this token's request rate limit (`rate_limited`): retry after `Retry-After` seconds */
            429: {
                headers: {
                    /** @description Seconds until the limit resets */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Not completed now (`unavailable`): retry with the same ids and body, which makes it safe */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
        };
    };
    putMember: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                teamId: string;
                userId: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** Format: email */
                    email: string;
                    roles: ("member" | "admin" | "billing")[];
                };
            };
        };
        responses: {
            /** @description The member as stored */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": unknown;
                };
            };
            /** @description Bad input (`invalid_request`): the message says which field and why */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description No valid bearer token (`unauthorized`): missing, unknown, expired or revoked */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description This token may not do that (`forbidden`) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description No such team or member (`not_found`); another team's resources answer 404 too */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description It would leave a paid team without a Billing member (`last_billing_member`) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description The request body is larger than 16 KiB (`too_large`) */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Over this token's request rate limit (`rate_limited`): retry after `Retry-After` seconds */
            429: {
                headers: {
                    /** @description Seconds until the limit resets */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Not completed now (`unavailable`): retry with the same ids and body, which makes it safe */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
        };
    };
    removeMember: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                teamId: string;
                userId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Removed */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Bad input (`invalid_request`): the message says which field and why */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description No valid bearer token (`unauthorized`): missing, unknown, expired or revoked */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description This token may not do that (`forbidden`) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description No such team, or no such member in it, also once removed (`not_found`) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description It would leave a paid team without a Billing member (`last_billing_member`) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Over this token's request rate limit (`rate_limited`): retry after `Retry-After` seconds */
            429: {
                headers: {
                    /** @description Seconds until the limit resets */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Not completed now (`unavailable`): retry with the same ids and body, which makes it safe */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
        };
    };
    issueToken: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    userId?: string;
                    teamId?: string;
                    /** @enum {string} */
                    service?: "agent" | "finance";
                    /**
                     * @description Service tokens: "global" acts for every team and must be asked for; the default is the team given
                     * @enum {string}
                     */
                    scope?: "team" | "global";
                    label?: string;
                    /** @description Lifetime in days (default 90) */
                    ttlDays?: number;
                };
            };
        };
        responses: {
            /** @description The token: its secret `token` is in this answer only */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": unknown;
                };
            };
            /** @description Bad input (`invalid_request`): the message says which field and why */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description No valid bearer token (`unauthorized`): missing, unknown, expired or revoked */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description This token may not do that (`forbidden`) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description No such team, or no such member in it (`not_found`) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description The request body is larger than 16 KiB (`too_large`) */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Over this token's request rate limit (`rate_limited`): retry after `Retry-After` seconds */
            429: {
                headers: {
                    /** @description Seconds until the limit resets */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Not completed now (`unavailable`): retry with the same ids and body, which makes it safe */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
        };
    };
    revokeToken: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                tokenId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Revoked (also when revoked before) */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Bad input (`invalid_request`): the message says which field and why */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description No valid bearer token (`unauthorized`): missing, unknown, expired or revoked */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description This token may not do that (`forbidden`) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description No such token, or not one of your team (`not_found`) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Over this token's request rate limit (`rate_limited`): retry after `Retry-After` seconds */
            429: {
                headers: {
                    /** @description Seconds until the limit resets */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Not completed now (`unavailable`): retry with the same ids and body, which makes it safe */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
        };
    };
    listTeamTokens: {
        parameters: {
            query?: {
                /** @description Page size, 1-500 (default 100) */
                limit?: string;
                /** @description nextCursor of the previous page */
                cursor?: string;
            };
            header?: never;
            path: {
                teamId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of tokens, oldest first */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": unknown;
                };
            };
            /** @description Bad input (`invalid_request`): the message says which field and why */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description No valid bearer token (`unauthorized`): missing, unknown, expired or revoked */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description This token may not do that (`forbidden`) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description No such team or member (`not_found`); another team's resources answer 404 too */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Over this token's request rate limit (`rate_limited`): retry after `Retry-After` seconds */
            429: {
                headers: {
                    /** @description Seconds until the limit resets */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Not completed now (`unavailable`): retry with the same ids and body, which makes it safe */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
        };
    };
    consume: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                teamId: string;
                userId: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    requestId: string;
                    /** @enum {string} */
                    action: "generate_request" | "refine_request" | "write_tests" | "create_documentation" | "explain_response" | "debug_request" | "generate_collection" | "chat";
                    credits: number | string;
                };
            };
        };
        responses: {
            /** @description Allowed: from credits (`allowed`) or billed as PAYG (`allowed_payg`) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {string} */
                        decision: "allowed" | "allowed_payg" | "refused";
                        /** @enum {string} */
                        reason?: "paused" | "insufficient_credits" | "payg_cap_reached" | "team_payg_cap_reached";
                        charged?: {
                            /** @description Decimal credits, e.g. "12.5" */
                            total: string;
                            /** @description Decimal credits, e.g. "12.5" */
                            allowance: string;
                            /** @description Decimal credits, e.g. "12.5" */
                            purchased: string;
                            /** @description Decimal credits, e.g. "12.5" */
                            payg: string;
                        };
                        balance: {
                            /** Format: date-time */
                            periodStart: string;
                            /** Format: date-time */
                            periodEnd: string;
                            /** @description Decimal credits, e.g. "12.5" */
                            allowance: string;
                            /** @description Decimal credits, e.g. "12.5" */
                            purchased: string;
                            /** @description Decimal credits, e.g. "12.5" */
                            used: string;
                            /** @description Decimal credits, e.g. "12.5" */
                            remaining: string;
                            paygEnabled: boolean;
                            paygAvailable: boolean;
                            /** @description Decimal credits, e.g. "12.5" */
                            paygCredits: string;
                            paygCharge: {
                                amountMinor: number;
                                currency: string;
                            };
                            /** @description The member's monthly PAYG cap (null: none) */
                            paygCap: {
                                amountMinor: number;
                                currency: string;
                            } | null;
                            /** @description Credits held by open reservations (from allowance, purchases and PAYG) */
                            held: string;
                            paused: boolean;
                        };
                    };
                };
            };
            /** @description Bad input (`invalid_request`): the message says which field and why */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description No valid bearer token (`unauthorized`): missing, unknown, expired or revoked */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Refused (`paused`, `insufficient_credits`, `payg_cap_reached`, `team_payg_cap_reached`): nothing recorded */
            402: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {string} */
                        decision: "allowed" | "allowed_payg" | "refused";
                        /** @enum {string} */
                        reason?: "paused" | "insufficient_credits" | "payg_cap_reached" | "team_payg_cap_reached";
                        charged?: {
                            /** @description Decimal credits, e.g. "12.5" */
                            total: string;
                            /** @description Decimal credits, e.g. "12.5" */
                            allowance: string;
                            /** @description Decimal credits, e.g. "12.5" */
                            purchased: string;
                            /** @description Decimal credits, e.g. "12.5" */
                            payg: string;
                        };
                        balance: {
                            /** Format: date-time */
                            periodStart: string;
                            /** Format: date-time */
                            periodEnd: string;
                            /** @description Decimal credits, e.g. "12.5" */
                            allowance: string;
                            /** @description Decimal credits, e.g. "12.5" */
                            purchased: string;
                            /** @description Decimal credits, e.g. "12.5" */
                            used: string;
                            /** @description Decimal credits, e.g. "12.5" */
                            remaining: string;
                            paygEnabled: boolean;
                            paygAvailable: boolean;
                            /** @description Decimal credits, e.g. "12.5" */
                            paygCredits: string;
                            paygCharge: {
                                amountMinor: number;
                                currency: string;
                            };
                            /** @description The member's monthly PAYG cap (null: none) */
                            paygCap: {
                                amountMinor: number;
                                currency: string;
                            } | null;
                            /** @description Credits held by open reservations (from allowance, purchases and PAYG) */
                            held: string;
                            paused: boolean;
                        };
                    };
                };
            };
            /** @description This token may not do that (`forbidden`) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description No such team or member (`not_found`); another team's resources answer 404 too */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description This requestId was used before with another action or amount (`idempotency_key_reused`) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description The request body is larger than 16 KiB (`too_large`) */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Over this token's request rate limit (`rate_limited`): retry after `Retry-After` seconds */
            429: {
                headers: {
                    /** @description Seconds until the limit resets */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Not completed now (`unavailable`): retry with the same ids and body, which makes it safe */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
        };
    };
    reserve: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                teamId: string;
                userId: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    reservationId: string;
                    /** @enum {string} */
                    action: "generate_request" | "refine_request" | "write_tests" | "create_documentation" | "explain_response" | "debug_request" | "generate_collection" | "chat";
                    credits: number | string;
                    /** @default 300 */
                    ttlSeconds?: number;
                };
            };
        };
        responses: {
            /** @description Held until settled, released, or `expiresAt` */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        reservationId: string;
                        /** @enum {string} */
                        status: "held";
                        /** @description Decimal credits, e.g. "12.5" */
                        held: string;
                        /** @description Where the held credits come from, in the spending order */
                        heldFrom: {
                            /** @description Decimal credits, e.g. "12.5" */
                            total: string;
                            /** @description Decimal credits, e.g. "12.5" */
                            allowance: string;
                            /** @description Decimal credits, e.g. "12.5" */
                            purchased: string;
                            /** @description Decimal credits, e.g. "12.5" */
                            payg: string;
                        };
                        /**
                         * Format: date-time
                         * @description Released by the workflow then, unless settled
                         */
                        expiresAt: string;
                        balance: {
                            /** Format: date-time */
                            periodStart: string;
                            /** Format: date-time */
                            periodEnd: string;
                            /** @description Decimal credits, e.g. "12.5" */
                            allowance: string;
                            /** @description Decimal credits, e.g. "12.5" */
                            purchased: string;
                            /** @description Decimal credits, e.g. "12.5" */
                            used: string;
                            /** @description Decimal credits, e.g. "12.5" */
                            remaining: string;
                            paygEnabled: boolean;
                            paygAvailable: boolean;
                            /** @description Decimal credits, e.g. "12.5" */
                            paygCredits: string;
                            paygCharge: {
                                amountMinor: number;
                                currency: string;
                            };
                            /** @description The member's monthly PAYG cap (null: none) */
                            paygCap: {
                                amountMinor: number;
                                currency: string;
                            } | null;
                            /** @description Credits held by open reservations (from allowance, purchases and PAYG) */
                            held: string;
                            paused: boolean;
                        };
                    };
                };
            };
            /** @description Bad input (`invalid_request`): the message says which field and why */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description No valid bearer token (`unauthorized`): missing, unknown, expired or revoked */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Refused (`paused`, `insufficient_credits`, `payg_cap_reached`, `team_payg_cap_reached`): nothing held */
            402: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {string} */
                        decision: "refused";
                        /** @enum {string} */
                        reason: "paused" | "insufficient_credits" | "payg_cap_reached" | "team_payg_cap_reached";
                        balance: {
                            /** Format: date-time */
                            periodStart: string;
                            /** Format: date-time */
                            periodEnd: string;
                            /** @description Decimal credits, e.g. "12.5" */
                            allowance: string;
                            /** @description Decimal credits, e.g. "12.5" */
                            purchased: string;
                            /** @description Decimal credits, e.g. "12.5" */
                            used: string;
                            /** @description Decimal credits, e.g. "12.5" */
                            remaining: string;
                            paygEnabled: boolean;
                            paygAvailable: boolean;
                            /** @description Decimal credits, e.g. "12.5" */
                            paygCredits: string;
                            paygCharge: {
                                amountMinor: number;
                                currency: string;
                            };
                            /** @description The member's monthly PAYG cap (null: none) */
                            paygCap: {
                                amountMinor: number;
                                currency: string;
                            } | null;
                            /** @description Credits held by open reservations (from allowance, purchases and PAYG) */
                            held: string;
                            paused: boolean;
                        };
                    };
                };
            };
            /** @description This token may not do that (`forbidden`) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description No such team or member (`not_found`); another team's resources answer 404 too */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description This reservationId was used before with another action or amount (`idempotency_key_reused`) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description The request body is larger than 16 KiB (`too_large`) */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Over this token's request rate limit (`rate_limited`): retry after `Retry-After` seconds */
            429: {
                headers: {
                    /** @description Seconds until the limit resets */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Not completed now (`unavailable`): retry with the same ids and body, which makes it safe */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
        };
    };
    settleReservation: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                teamId: string;
                userId: string;
                reservationId: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    credits: number | string;
                };
            };
        };
        responses: {
            /** @description Settled: what was charged and the balance */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        reservationId: string;
                        /** @enum {string} */
                        status: "settled";
                        /** @enum {string} */
                        decision: "allowed" | "allowed_payg";
                        charged: {
                            /** @description Decimal credits, e.g. "12.5" */
                            total: string;
                            /** @description Decimal credits, e.g. "12.5" */
                            allowance: string;
                            /** @description Decimal credits, e.g. "12.5" */
                            purchased: string;
                            /** @description Decimal credits, e.g. "12.5" */
                            payg: string;
                        };
                        balance: {
                            /** Format: date-time */
                            periodStart: string;
                            /** Format: date-time */
                            periodEnd: string;
                            /** @description Decimal credits, e.g. "12.5" */
                            allowance: string;
                            /** @description Decimal credits, e.g. "12.5" */
                            purchased: string;
                            /** @description Decimal credits, e.g. "12.5" */
                            used: string;
                            /** @description Decimal credits, e.g. "12.5" */
                            remaining: string;
                            paygEnabled: boolean;
                            paygAvailable: boolean;
                            /** @description Decimal credits, e.g. "12.5" */
                            paygCredits: string;
                            paygCharge: {
                                amountMinor: number;
                                currency: string;
                            };
                            /** @description The member's monthly PAYG cap (null: none) */
                            paygCap: {
                                amountMinor: number;
                                currency: string;
                            } | null;
                            /** @description Credits held by open reservations (from allowance, purchases and PAYG) */
                            held: string;
                            paused: boolean;
                        };
                    };
                };
            };
            /** @description Bad input (`invalid_request`), e.g. more credits than held */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description No valid bearer token (`unauthorized`): missing, unknown, expired or revoked */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description This token may not do that (`forbidden`) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description No such team, member or reservation (`not_found`) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description The reservation is no longer held (`reservation_not_held`): released, expired, or settled with another amount (`idempotency_key_reused`) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description The request body is larger than 16 KiB (`too_large`) */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Over this token's request rate limit (`rate_limited`): retry after `Retry-After` seconds */
            429: {
                headers: {
                    /** @description Seconds until the limit resets */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Not completed now (`unavailable`): retry with the same ids and body, which makes it safe */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
        };
    };
    releaseReservation: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                teamId: string;
                userId: string;
                reservationId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Released: the balance with the credits back */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        reservationId: string;
                        /** @enum {string} */
                        status: "released";
                        /** @description It had expired already: the workflow released it at its expiresAt */
                        expired: boolean;
                        balance: {
                            /** Format: date-time */
                            periodStart: string;
                            /** Format: date-time */
                            periodEnd: string;
                            /** @description Decimal credits, e.g. "12.5" */
                            allowance: string;
                            /** @description Decimal credits, e.g. "12.5" */
                            purchased: string;
                            /** @description Decimal credits, e.g. "12.5" */
                            used: string;
                            /** @description Decimal credits, e.g. "12.5" */
                            remaining: string;
                            paygEnabled: boolean;
                            paygAvailable: boolean;
                            /** @description Decimal credits, e.g. "12.5" */
                            paygCredits: string;
                            paygCharge: {
                                amountMinor: number;
                                currency: string;
                            };
                            /** @description The member's monthly PAYG cap (null: none) */
                            paygCap: {
                                amountMinor: number;
                                currency: string;
                            } | null;
                            /** @description Credits held by open reservations (from allowance, purchases and PAYG) */
                            held: string;
                            paused: boolean;
                        };
                    };
                };
            };
            /** @description Bad input (`invalid_request`): the message says which field and why */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description No valid bearer token (`unauthorized`): missing, unknown, expired or revoked */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description This token may not do that (`forbidden`) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description No such team, member or reservation (`not_found`) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description The reservation was settled (`reservation_not_held`) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Over this token's request rate limit (`rate_limited`): retry after `Retry-After` seconds */
            429: {
                headers: {
                    /** @description Seconds until the limit resets */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Not completed now (`unavailable`): retry with the same ids and body, which makes it safe */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
        };
    };
    getMemberCredits: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                teamId: string;
                userId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The balance, the plan and the notifications sent */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        teamId: string;
                        userId: string;
                        plan: string;
                        planTerms: {
                            planId: string;
                            /** @description Decimal credits, e.g. "12.5" */
                            monthlyAllowance: string;
                            paygAvailable: boolean;
                            /** @description PAYG price of one credit in millionths of the currency (40000: 0.04 USD) */
                            paygRateMicrosPerCredit: number;
                            purchasesAllowed: boolean;
                            /** @description Price of one purchased credit in millionths of the currency */
                            purchaseRateMicrosPerCredit: number;
                            /** @description Decimal credits, e.g. "12.5" */
                            maxPurchaseCredits: string;
                            /** @description Decimal credits, e.g. "12.5" */
                            maxCreditsPerAction: string;
                            currency: string;
                            /** @description Decimal places of the minor unit (2 for USD, 0 for JPY) */
                            currencyExponent: number;
                        };
                        /** @description The notifications sent to the member this period */
                        notificationsSent: ("member_75" | "member_100" | "member_exceeded" | "member_payg_cap" | "member_team_payg_cap" | "member_paused" | "member_resumed")[];
                        balance: {
                            /** Format: date-time */
                            periodStart: string;
                            /** Format: date-time */
                            periodEnd: string;
                            /** @description Decimal credits, e.g. "12.5" */
                            allowance: string;
                            /** @description Decimal credits, e.g. "12.5" */
                            purchased: string;
                            /** @description Decimal credits, e.g. "12.5" */
                            used: string;
                            /** @description Decimal credits, e.g. "12.5" */
                            remaining: string;
                            paygEnabled: boolean;
                            paygAvailable: boolean;
                            /** @description Decimal credits, e.g. "12.5" */
                            paygCredits: string;
                            paygCharge: {
                                amountMinor: number;
                                currency: string;
                            };
                            /** @description The member's monthly PAYG cap (null: none) */
                            paygCap: {
                                amountMinor: number;
                                currency: string;
                            } | null;
                            /** @description Credits held by open reservations (from allowance, purchases and PAYG) */
                            held: string;
                            paused: boolean;
                        };
                    };
                };
            };
            /** @description Bad input (`invalid_request`): the message says which field and why */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description No valid bearer token (`unauthorized`): missing, unknown, expired or revoked */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description This token may not do that (`forbidden`) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description No such team or member (`not_found`); another team's resources answer 404 too */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Over this token's request rate limit (`rate_limited`): retry after `Retry-After` seconds */
            429: {
                headers: {
                    /** @description Seconds until the limit resets */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Not completed now (`unavailable`): retry with the same ids and body, which makes it safe */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
        };
    };
    setPayg: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                teamId: string;
                userId: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @description PAYG on or off; absent: unchanged */
                    enabled?: boolean;
                    /** @description Monthly cap on the PAYG charges; null: none; absent: unchanged */
                    monthlyCapMinor?: number | null;
                };
            };
        };
        responses: {
            /** @description The balance after the change */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        teamId: string;
                        userId: string;
                        balance: {
                            /** Format: date-time */
                            periodStart: string;
                            /** Format: date-time */
                            periodEnd: string;
                            /** @description Decimal credits, e.g. "12.5" */
                            allowance: string;
                            /** @description Decimal credits, e.g. "12.5" */
                            purchased: string;
                            /** @description Decimal credits, e.g. "12.5" */
                            used: string;
                            /** @description Decimal credits, e.g. "12.5" */
                            remaining: string;
                            paygEnabled: boolean;
                            paygAvailable: boolean;
                            /** @description Decimal credits, e.g. "12.5" */
                            paygCredits: string;
                            paygCharge: {
                                amountMinor: number;
                                currency: string;
                            };
                            /** @description The member's monthly PAYG cap (null: none) */
                            paygCap: {
                                amountMinor: number;
                                currency: string;
                            } | null;
                            /** @description Credits held by open reservations (from allowance, purchases and PAYG) */
                            held: string;
                            paused: boolean;
                        };
                    };
                };
            };
            /** @description Bad input (`invalid_request`): the message says which field and why */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description No valid bearer token (`unauthorized`): missing, unknown, expired or revoked */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description This token may not do that (`forbidden`) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description No such team or member (`not_found`); another team's resources answer 404 too */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description The request body is larger than 16 KiB (`too_large`) */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Pay-as-you-go is not available on the team's plan (`not_allowed`) */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Over this token's request rate limit (`rate_limited`): retry after `Retry-After` seconds */
            429: {
                headers: {
                    /** @description Seconds until the limit resets */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Not completed now (`unavailable`): retry with the same ids and body, which makes it safe */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
        };
    };
    purchaseCredits: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                teamId: string;
                userId: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    purchaseId: string;
                    credits: number | string;
                };
            };
        };
        responses: {
            /** @description This purchaseId was recorded before: its first answer */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        purchaseId: string;
                        /** @description Decimal credits, e.g. "12.5" */
                        credits: string;
                        price: {
                            amountMinor: number;
                            currency: string;
                        };
                        balance: {
                            /** Format: date-time */
                            periodStart: string;
                            /** Format: date-time */
                            periodEnd: string;
                            /** @description Decimal credits, e.g. "12.5" */
                            allowance: string;
                            /** @description Decimal credits, e.g. "12.5" */
                            purchased: string;
                            /** @description Decimal credits, e.g. "12.5" */
                            used: string;
                            /** @description Decimal credits, e.g. "12.5" */
                            remaining: string;
                            paygEnabled: boolean;
                            paygAvailable: boolean;
                            /** @description Decimal credits, e.g. "12.5" */
                            paygCredits: string;
                            paygCharge: {
                                amountMinor: number;
                                currency: string;
                            };
                            /** @description The member's monthly PAYG cap (null: none) */
                            paygCap: {
                                amountMinor: number;
                                currency: string;
                            } | null;
                            /** @description Credits held by open reservations (from allowance, purchases and PAYG) */
                            held: string;
                            paused: boolean;
                        };
                    };
                };
            };
            /** @description Bought: the credits, their price and the balance */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        purchaseId: string;
                        /** @description Decimal credits, e.g. "12.5" */
                        credits: string;
                        price: {
                            amountMinor: number;
                            currency: string;
                        };
                        balance: {
                            /** Format: date-time */
                            periodStart: string;
                            /** Format: date-time */
                            periodEnd: string;
                            /** @description Decimal credits, e.g. "12.5" */
                            allowance: string;
                            /** @description Decimal credits, e.g. "12.5" */
                            purchased: string;
                            /** @description Decimal credits, e.g. "12.5" */
                            used: string;
                            /** @description Decimal credits, e.g. "12.5" */
                            remaining: string;
                            paygEnabled: boolean;
                            paygAvailable: boolean;
                            /** @description Decimal credits, e.g. "12.5" */
                            paygCredits: string;
                            paygCharge: {
                                amountMinor: number;
                                currency: string;
                            };
                            /** @description The member's monthly PAYG cap (null: none) */
                            paygCap: {
                                amountMinor: number;
                                currency: string;
                            } | null;
                            /** @description Credits held by open reservations (from allowance, purchases and PAYG) */
                            held: string;
                            paused: boolean;
                        };
                    };
                };
            };
            /** @description Bad input (`invalid_request`): the message says which field and why */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description No valid bearer token (`unauthorized`): missing, unknown, expired or revoked */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description This token may not do that (`forbidden`) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description No such team or member (`not_found`); another team's resources answer 404 too */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description This purchaseId was used before with another amount (`idempotency_key_reused`) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description The request body is larger than 16 KiB (`too_large`) */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description The team's plan does not sell credits (`not_allowed`) */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Over this token's request rate limit (`rate_limited`): retry after `Retry-After` seconds */
            429: {
                headers: {
                    /** @description Seconds until the limit resets */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Not completed now (`unavailable`): retry with the same ids and body, which makes it safe */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
        };
    };
    getTeamUsage: {
        parameters: {
            query?: {
                /** @description Page size, 1-500 (default 100) */
                limit?: string;
                /** @description nextCursor of the previous page */
                cursor?: string;
                /** @description Only members whose user id or email contains this */
                q?: string;
            };
            header?: never;
            path: {
                teamId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of members with their balances */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        teamId: string;
                        plan: string;
                        planTerms: {
                            planId: string;
                            /** @description Decimal credits, e.g. "12.5" */
                            monthlyAllowance: string;
                            paygAvailable: boolean;
                            /** @description PAYG price of one credit in millionths of the currency (40000: 0.04 USD) */
                            paygRateMicrosPerCredit: number;
                            purchasesAllowed: boolean;
                            /** @description Price of one purchased credit in millionths of the currency */
                            purchaseRateMicrosPerCredit: number;
                            /** @description Decimal credits, e.g. "12.5" */
                            maxPurchaseCredits: string;
                            /** @description Decimal credits, e.g. "12.5" */
                            maxCreditsPerAction: string;
                            currency: string;
                            /** @description Decimal places of the minor unit (2 for USD, 0 for JPY) */
                            currencyExponent: number;
                        };
                        /** @description A downgrade waiting for the next billing date */
                        pendingPlan?: {
                            plan: string;
                            /** Format: date-time */
                            from: string;
                        } | null;
                        members: {
                            userId: string;
                            email: string;
                            roles: string[];
                            balance: {
                                /** Format: date-time */
                                periodStart: string;
                                /** Format: date-time */
                                periodEnd: string;
                                /** @description Decimal credits, e.g. "12.5" */
                                allowance: string;
                                /** @description Decimal credits, e.g. "12.5" */
                                purchased: string;
                                /** @description Decimal credits, e.g. "12.5" */
                                used: string;
                                /** @description Decimal credits, e.g. "12.5" */
                                remaining: string;
                                paygEnabled: boolean;
                                paygAvailable: boolean;
                                /** @description Decimal credits, e.g. "12.5" */
                                paygCredits: string;
                                paygCharge: {
                                    amountMinor: number;
                                    currency: string;
                                };
                                /** @description The member's monthly PAYG cap (null: none) */
                                paygCap: {
                                    amountMinor: number;
                                    currency: string;
                                } | null;
                                /** @description Credits held by open reservations (from allowance, purchases and PAYG) */
                                held: string;
                                paused: boolean;
                            };
                        }[];
                        /** @description The cursor of the next page; null on the last page */
                        nextCursor: string | null;
                    };
                };
            };
            /** @description Bad input (`invalid_request`): the message says which field and why */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description No valid bearer token (`unauthorized`): missing, unknown, expired or revoked */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description This token may not do that (`forbidden`) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description No such team or member (`not_found`); another team's resources answer 404 too */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Over this token's request rate limit (`rate_limited`): retry after `Retry-After` seconds */
            429: {
                headers: {
                    /** @description Seconds until the limit resets */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Not completed now (`unavailable`): retry with the same ids and body, which makes it safe */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
        };
    };
    getMemberDailyUsage: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                teamId: string;
                userId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        teamId: string;
                        userId: string;
                        /** Format: date-time */
                        periodStart: string;
                        /** Format: date-time */
                        periodEnd: string;
                        /** @description The plan's PAYG rate the charges are computed at */
                        paygRateMicrosPerCredit: number;
                        /** @description Every day of the current period from its first to today's, days without usage included */
                        days: {
                            /**
                             * Format: date
                             * @description A UTC calendar day
                             */
                            date: string;
                            /** @description Credits spent from the allowance and purchased credits */
                            used: string;
                            /** @description Credits billed as pay-as-you-go */
                            paygCredits: string;
                            /** @description What the PAYG credits add to the period's charges: per member, the rounded charge of the PAYG up to this day minus that up to the day before (half-up, as the invoice rounds once per member and period), so the days add up to the invoice's amount at the plan's rate; for a team, the sum of its members' days */
                            paygCharge: {
                                amountMinor: number;
                                currency: string;
                            };
                        }[];
                        total: {
                            /** @description Credits spent from the allowance and purchased credits */
                            used: string;
                            /** @description Credits billed as pay-as-you-go */
                            paygCredits: string;
                            /** @description What the PAYG credits add to the period's charges: per member, the rounded charge of the PAYG up to this day minus that up to the day before (half-up, as the invoice rounds once per member and period), so the days add up to the invoice's amount at the plan's rate; for a team, the sum of its members' days */
                            paygCharge: {
                                amountMinor: number;
                                currency: string;
                            };
                        };
                    };
                };
            };
            /** @description Bad input (`invalid_request`): the message says which field and why */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description No valid bearer token (`unauthorized`): missing, unknown, expired or revoked */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description This token may not do that (`forbidden`) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description No such team or member (`not_found`); another team's resources answer 404 too */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Over this token's request rate limit (`rate_limited`): retry after `Retry-After` seconds */
            429: {
                headers: {
                    /** @description Seconds until the limit resets */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Not completed now (`unavailable`): retry with the same ids and body, which makes it safe */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
        };
    };
    getTeamDailyUsage: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                teamId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        teamId: string;
                        /** Format: date-time */
                        periodStart: string;
                        /** Format: date-time */
                        periodEnd: string;
                        /** @description The plan's PAYG rate the charges are computed at */
                        paygRateMicrosPerCredit: number;
                        /** @description Every day of the current period from its first to today's, days without usage included */
                        days: {
                            /**
                             * Format: date
                             * @description A UTC calendar day
                             */
                            date: string;
                            /** @description Credits spent from the allowance and purchased credits */
                            used: string;
                            /** @description Credits billed as pay-as-you-go */
                            paygCredits: string;
                            /** @description What the PAYG credits add to the period's charges: per member, the rounded charge of the PAYG up to this day minus that up to the day before (half-up, as the invoice rounds once per member and period), so the days add up to the invoice's amount at the plan's rate; for a team, the sum of its members' days */
                            paygCharge: {
                                amountMinor: number;
                                currency: string;
                            };
                        }[];
                        total: {
                            /** @description Credits spent from the allowance and purchased credits */
                            used: string;
                            /** @description Credits billed as pay-as-you-go */
                            paygCredits: string;
                            /** @description What the PAYG credits add to the period's charges: per member, the rounded charge of the PAYG up to this day minus that up to the day before (half-up, as the invoice rounds once per member and period), so the days add up to the invoice's amount at the plan's rate; for a team, the sum of its members' days */
                            paygCharge: {
                                amountMinor: number;
                                currency: string;
                            };
                        };
                        /** @description Billing is emailed once the period's PAYG charges pass it (null: no threshold) */
                        paygThreshold: {
                            amountMinor: number;
                            currency: string;
                        } | null;
                        /** @description The team's PAYG charges for a period never exceed it (null: no cap) */
                        paygCap: {
                            amountMinor: number;
                            currency: string;
                        } | null;
                    };
                };
            };
            /** @description Bad input (`invalid_request`): the message says which field and why */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description No valid bearer token (`unauthorized`): missing, unknown, expired or revoked */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description This token may not do that (`forbidden`) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description No such team or member (`not_found`); another team's resources answer 404 too */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Over this token's request rate limit (`rate_limited`): retry after `Retry-After` seconds */
            429: {
                headers: {
                    /** @description Seconds until the limit resets */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Not completed now (`unavailable`): retry with the same ids and body, which makes it safe */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
        };
    };
    listMyAlerts: {
        parameters: {
            query?: {
                /** @description Page size, 1-500 (default 100) */
                limit?: string;
                /** @description nextCursor of the previous page */
                cursor?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of alerts, newest first */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": unknown;
                };
            };
            /** @description Bad input (`invalid_request`): the message says which field and why */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description No valid bearer token (`unauthorized`): missing, unknown, expired or revoked */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description This token may not do that (`forbidden`) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Over this token's request rate limit (`rate_limited`): retry after `Retry-After` seconds */
            429: {
                headers: {
                    /** @description Seconds until the limit resets */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Not completed now (`unavailable`): retry with the same ids and body, which makes it safe */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
        };
    };
    getMe: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The caller's identity */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": unknown;
                };
            };
            /** @description No valid bearer token (`unauthorized`): missing, unknown, expired or revoked */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description This token may not do that (`forbidden`) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Over this token's request rate limit (`rate_limited`): retry after `Retry-After` seconds */
            429: {
                headers: {
                    /** @description Seconds until the limit resets */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Not completed now (`unavailable`): retry with the same ids and body, which makes it safe */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
        };
    };
    listInvoices: {
        parameters: {
            query?: {
                /** @description Page size, 1-500 (default 100) */
                limit?: string;
                /** @description nextCursor of the previous page */
                cursor?: string;
            };
            header?: never;
            path: {
                teamId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of invoices, newest first */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": unknown;
                };
            };
            /** @description Bad input (`invalid_request`): the message says which field and why */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description No valid bearer token (`unauthorized`): missing, unknown, expired or revoked */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description This token may not do that (`forbidden`) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description No such team or member (`not_found`); another team's resources answer 404 too */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Over this token's request rate limit (`rate_limited`): retry after `Retry-After` seconds */
            429: {
                headers: {
                    /** @description Seconds until the limit resets */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Not completed now (`unavailable`): retry with the same ids and body, which makes it safe */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
        };
    };
    getInvoicePreview: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                teamId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Posted lines, accruing PAYG and the estimated total */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": unknown;
                };
            };
            /** @description Bad input (`invalid_request`): the message says which field and why */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description No valid bearer token (`unauthorized`): missing, unknown, expired or revoked */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description This token may not do that (`forbidden`) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description No such team or member (`not_found`); another team's resources answer 404 too */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Over this token's request rate limit (`rate_limited`): retry after `Retry-After` seconds */
            429: {
                headers: {
                    /** @description Seconds until the limit resets */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Not completed now (`unavailable`): retry with the same ids and body, which makes it safe */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
        };
    };
    getInvoice: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                teamId: string;
                invoiceId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The invoice with its lines */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": unknown;
                };
            };
            /** @description Bad input (`invalid_request`): the message says which field and why */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description No valid bearer token (`unauthorized`): missing, unknown, expired or revoked */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description This token may not do that (`forbidden`) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description No such team or invoice (`not_found`) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Over this token's request rate limit (`rate_limited`): retry after `Retry-After` seconds */
            429: {
                headers: {
                    /** @description Seconds until the limit resets */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Not completed now (`unavailable`): retry with the same ids and body, which makes it safe */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
        };
    };
    listLedger: {
        parameters: {
            query?: {
                periodStart?: string;
                userId?: string;
                /** @description Page size, 1-5000 (default 1000) */
                limit?: string;
                /** @description nextCursor of the previous page */
                cursor?: string;
            };
            header?: never;
            path: {
                teamId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of ledger rows in id order */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": unknown;
                };
            };
            /** @description Bad input (`invalid_request`): the message says which field and why */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description No valid bearer token (`unauthorized`): missing, unknown, expired or revoked */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description This token may not do that (`forbidden`) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description No such team or member (`not_found`); another team's resources answer 404 too */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Over this token's request rate limit (`rate_limited`): retry after `Retry-After` seconds */
            429: {
                headers: {
                    /** @description Seconds until the limit resets */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Not completed now (`unavailable`): retry with the same ids and body, which makes it safe */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
        };
    };
    listAudit: {
        parameters: {
            query?: {
                /** @description Events after this event id, or from this instant on (ISO 8601) */
                after?: string;
                /** @description nextCursor of the previous page */
                cursor?: string;
                /** @description Page size, 1-500 (default 100) */
                limit?: string;
                /** @description oldest (default): from the first event on; newest: from the latest back, `after` still bounding it */
                order?: "oldest" | "newest";
            };
            header?: never;
            path: {
                teamId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of events, oldest first */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": unknown;
                };
            };
            /** @description Bad input (`invalid_request`): the message says which field and why */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description No valid bearer token (`unauthorized`): missing, unknown, expired or revoked */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description This token may not do that (`forbidden`) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description No such team or member (`not_found`); another team's resources answer 404 too */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Over this token's request rate limit (`rate_limited`): retry after `Retry-After` seconds */
            429: {
                headers: {
                    /** @description Seconds until the limit resets */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Not completed now (`unavailable`): retry with the same ids and body, which makes it safe */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
        };
    };
    listWebhooks: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                teamId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The endpoints (never their secrets) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": unknown;
                };
            };
            /** @description Bad input (`invalid_request`): the message says which field and why */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description No valid bearer token (`unauthorized`): missing, unknown, expired or revoked */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description This token may not do that (`forbidden`) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description No such team or member (`not_found`); another team's resources answer 404 too */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Over this token's request rate limit (`rate_limited`): retry after `Retry-After` seconds */
            429: {
                headers: {
                    /** @description Seconds until the limit resets */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Not completed now (`unavailable`): retry with the same ids and body, which makes it safe */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
        };
    };
    createWebhook: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                teamId: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @description http(s) URL */
                    url: string;
                    events: ("member.threshold_reached" | "member.payg_started" | "member.paused" | "member.resumed" | "member.payg_cap_reached" | "team.payg_threshold_exceeded" | "invoice.finalized")[];
                    /** @description Signing secret; absent: generated (and answered once) for a new endpoint, kept for an existing one */
                    secret?: string;
                };
            };
        };
        responses: {
            /** @description The endpoint, with its secret (shown once) */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": unknown;
                };
            };
            /** @description Bad input (`invalid_request`): the message says which field and why */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description No valid bearer token (`unauthorized`): missing, unknown, expired or revoked */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description This token may not do that (`forbidden`) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description No such team or member (`not_found`); another team's resources answer 404 too */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description The request body is larger than 16 KiB (`too_large`) */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Over this token's request rate limit (`rate_limited`): retry after `Retry-After` seconds */
            429: {
                headers: {
                    /** @description Seconds until the limit resets */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Not completed now (`unavailable`): retry with the same ids and body, which makes it safe */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
        };
    };
    getWebhook: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                teamId: string;
                webhookId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The endpoint (never its secret) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": unknown;
                };
            };
            /** @description Bad input (`invalid_request`): the message says which field and why */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description No valid bearer token (`unauthorized`): missing, unknown, expired or revoked */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description This token may not do that (`forbidden`) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description No such team or member (`not_found`); another team's resources answer 404 too */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Over this token's request rate limit (`rate_limited`): retry after `Retry-After` seconds */
            429: {
                headers: {
                    /** @description Seconds until the limit resets */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Not completed now (`unavailable`): retry with the same ids and body, which makes it safe */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
        };
    };
    putWebhook: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                teamId: string;
                webhookId: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @description http(s) URL */
                    url: string;
                    events: ("member.threshold_reached" | "member.payg_started" | "member.paused" | "member.resumed" | "member.payg_cap_reached" | "team.payg_threshold_exceeded" | "invoice.finalized")[];
                    /** @description Signing secret; absent: generated (and answered once) for a new endpoint, kept for an existing one */
                    secret?: string;
                };
            };
        };
        responses: {
            /** @description The endpoint, changed */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": unknown;
                };
            };
            /** @description The endpoint, created, with its secret (shown once) */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": unknown;
                };
            };
            /** @description Bad input (`invalid_request`): the message says which field and why */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description No valid bearer token (`unauthorized`): missing, unknown, expired or revoked */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description This token may not do that (`forbidden`) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description No such team or member (`not_found`); another team's resources answer 404 too */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description The request body is larger than 16 KiB (`too_large`) */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Over this token's request rate limit (`rate_limited`): retry after `Retry-After` seconds */
            429: {
                headers: {
                    /** @description Seconds until the limit resets */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Not completed now (`unavailable`): retry with the same ids and body, which makes it safe */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
        };
    };
    deleteWebhook: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                teamId: string;
                webhookId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted; no more deliveries start for it */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Bad input (`invalid_request`): the message says which field and why */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description No valid bearer token (`unauthorized`): missing, unknown, expired or revoked */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description This token may not do that (`forbidden`) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description No such team or member (`not_found`); another team's resources answer 404 too */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Over this token's request rate limit (`rate_limited`): retry after `Retry-After` seconds */
            429: {
                headers: {
                    /** @description Seconds until the limit resets */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Not completed now (`unavailable`): retry with the same ids and body, which makes it safe */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
        };
    };
    listWebhookDeliveries: {
        parameters: {
            query?: {
                /** @description Page size, 1-500 (default 100) */
                limit?: string;
                /** @description nextCursor of the previous page */
                cursor?: string;
            };
            header?: never;
            path: {
                teamId: string;
                webhookId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of deliveries, with `nextCursor` */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": unknown;
                };
            };
            /** @description Bad input (`invalid_request`): the message says which field and why */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description No valid bearer token (`unauthorized`): missing, unknown, expired or revoked */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description This token may not do that (`forbidden`) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description No such team or member (`not_found`); another team's resources answer 404 too */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Over this token's request rate limit (`rate_limited`): retry after `Retry-After` seconds */
            429: {
                headers: {
                    /** @description Seconds until the limit resets */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Not completed now (`unavailable`): retry with the same ids and body, which makes it safe */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
        };
    };
    redeliverWebhook: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                teamId: string;
                webhookId: string;
                deliveryId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The new delivery, started */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": unknown;
                };
            };
            /** @description Bad input (`invalid_request`): the message says which field and why */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description No valid bearer token (`unauthorized`): missing, unknown, expired or revoked */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description This token may not do that (`forbidden`) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description No such team or member (`not_found`); another team's resources answer 404 too */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Over this token's request rate limit (`rate_limited`): retry after `Retry-After` seconds */
            429: {
                headers: {
                    /** @description Seconds until the limit resets */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
            /** @description Not completed now (`unavailable`): retry with the same ids and body, which makes it safe */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                        };
                    };
                };
            };
        };
    };
}

/**
 * The Airlock API's types, generated from GET /openapi.json by `npm run api:types`
 * (packages/server/scripts/api-types.ts). Do not edit: change the server's routes or
 * packages/server/src/http/views.ts and regenerate.
 */

export interface paths {
    "/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The dashboard (single-page app; its client-side routes are served the same page). */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "text/html": unknown;
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/assets/*": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The dashboard's scripts and styles (content-hashed names, cached for a year). */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    "*": string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "*/*": unknown;
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/healthz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Liveness: the process answers. */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @constant */
                            status: "ok";
                        };
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/metrics": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Prometheus metrics. */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "text/plain": unknown;
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/openapi.json": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** This API as OpenAPI 3.1. */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            [key: string]: unknown;
                        };
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/readyz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Readiness: the store (and, with several instances, Redis) answers. */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            policyVersion: number | null;
                            /** @constant */
                            status: "ready";
                        };
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/agent/tools": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The tools the calling agent's active policy declares, each with `reach`: `blocked` when every call is blocked whatever its arguments, else `open`. Tools not listed are unknown to the agent (blocked). */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["AgentTools"];
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/agents": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List agents with how many keys they have and when they last asked for a decision. */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            agents: components["schemas"]["AgentListed"][];
                        };
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        /** Register an agent with its role and environment (bound to every key it gets). */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @default production */
                        environment?: string;
                        id: string;
                        role: string;
                    };
                };
            };
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Agent"];
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/agents/{id}/keys": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List an agent's API keys (ids only; secrets are never stored). */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            keys: components["schemas"]["ApiKey"][];
                        };
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        /** Issue an API key. The `key` in the answer is shown this once. */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["IssuedApiKey"];
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/anomalies": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Anomaly alerts, newest first: per agent and tool, calls, blocks, approvals or limit hits far above the agent’s own baseline, and tools an agent never used before (default: the last 24 hours). `baseline` says how much history each agent has and whether it is still being learned (no alert can be raised before). */
        get: {
            parameters: {
                query?: {
                    agent?: string;
                    limit?: number;
                    /** @description a duration such as 24h (default) */
                    since?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            alerts: components["schemas"]["AnomalyAlert"][];
                            baseline: components["schemas"]["AnomalyBaseline"];
                        };
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/approval-links": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The page an approve/deny link opens: the approval and a button to act (signed in, or one-click). Opening it changes nothing. */
        get: {
            parameters: {
                query: {
                    token: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "text/html": unknown;
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        /** Act on an approve/deny link as the signed-in person (session and CSRF header required). */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        callHash?: string;
                        reason?: string;
                        token: string;
                    };
                };
            };
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Approval"];
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/approval-links/one-click": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Act on a one-click link without a session: only when links.mode is one-click and the token names its user. */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        callHash?: string;
                        reason?: string;
                        token: string;
                    };
                };
            };
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Approval"];
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/approvals": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List approvals (newest first unless sorted otherwise), filtered, with cursor pagination. */
        get: {
            parameters: {
                query?: {
                    agent?: string;
                    /** @description argument filters, repeat for several (all must hold, at most 8): path=value (equal), path^=prefix, path>=n, path>n, path<=n, path<n; path is dotted keys into the call's arguments (e.g. account, amount, payee.country) */
                    arg?: string | string[];
                    cursor?: string;
                    /** @description created at or after */
                    from?: string;
                    limit?: number;
                    rule?: string;
                    /** @description deadline: the soonest tier deadline (else expiry) first */
                    sort?: "newest" | "oldest" | "deadline";
                    /** @description resolved: approved, denied, expired or redeemed */
                    status?: "pending" | "approved" | "denied" | "expired" | "redeemed" | "resolved";
                    /** @description created before */
                    to?: string;
                    tool?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            approvals: components["schemas"]["Approval"][];
                            nextCursor: string | null;
                        };
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/approvals/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One approval. Agents see only their own. */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Approval"];
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/approvals/{id}/approve": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Approve a pending approval, with a reason; with `args`, approve the call edited to these arguments (re-checked against the active policy). Counts as one of the approvals the current tier needs. */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        args?: {
                            [key: string]: unknown;
                        };
                        /** @description the `callHash` of the approval as the approver was shown it: refused with call_changed if another edit replaced the call since */
                        callHash?: string;
                        reason: string;
                    };
                };
            };
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Approval"];
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/approvals/{id}/context": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** An approval with the full decision that opened it, the budgets it consulted, and the agent's recent decisions. */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApprovalContext"];
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/approvals/{id}/deliveries": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The notification delivery log of an approval, newest attempt first. */
        get: {
            parameters: {
                query?: {
                    limit?: number;
                };
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            deliveries: components["schemas"]["Delivery"][];
                        };
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/approvals/{id}/deny": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Deny a pending approval, with a reason. */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        reason: string;
                    };
                };
            };
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Approval"];
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/approvals/{id}/outcome": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** What ran on an approval, as its agent reported it: `outcome` null while nothing was reported (an approval not redeemed yet, or an agent whose adapter does not report). The approval detail's "approved 14:02, ran 14:03, succeeded in 210 ms". */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            outcome: components["schemas"]["Outcome"] | null;
                        };
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/approvals/{id}/redeem": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Spend an approved approval, once, before it expires: send the call as requested (or as edited); the answer's `args` are the arguments to run. */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @default {} */
                        args?: {
                            [key: string]: unknown;
                        };
                        sessionAttributes?: {
                            [key: string]: string | number | boolean;
                        };
                        tool: string;
                    };
                };
            };
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Approval"];
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/approvals/{id}/wait": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Long-poll: answers as soon as the approval leaves pending, or after timeout seconds (at most 60). */
        get: {
            parameters: {
                query?: {
                    timeout?: number;
                };
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Approval"];
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/approvals/stats": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Per rule: approvals granted, denied, edited, timed out, escalated, and time to decision (default: the last 30 days). */
        get: {
            parameters: {
                query?: {
                    from?: string;
                    rule?: string;
                    to?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApprovalStats"];
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/audit": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Query the audit trail, newest first, with cursor pagination. A page examines at most 50,000 records when no single index serves its filter (see searchedTo). */
        get: {
            parameters: {
                query?: {
                    agent?: string;
                    /** @description argument filters, repeat for several (all must hold, at most 8): path=value (equal), path^=prefix, path>=n, path>n, path<=n, path<n; path is dotted keys into the call's arguments (e.g. account, amount, payee.country) */
                    arg?: string | string[];
                    /** @description decisions with this cause: what decided them (rule, limit, risk, default) or why they were refused (paused, invalid_arguments, unknown_tool, no_policy, evaluation_error) */
                    cause?: "rule" | "limit" | "risk" | "default" | "paused" | "invalid_arguments" | "unknown_tool" | "no_policy" | "evaluation_error";
                    cursor?: number;
                    effect?: "allow" | "require_approval" | "block";
                    /** @description decisions of agents registered in this environment */
                    environment?: string;
                    /** @description inclusive */
                    from?: string;
                    limit?: number;
                    /** @description decisions of agents registered with this role */
                    role?: string;
                    rule?: string;
                    /** @description exclusive */
                    to?: string;
                    tool?: string;
                    type?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            nextCursor: string | null;
                            records: components["schemas"]["AuditRecord"][];
                            /** @description present when this page examined as many records as one page may (a filter no single index serves) without filling up: the search stopped at this seq, and nextCursor continues below it */
                            searchedTo?: number;
                        };
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/audit/export": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Stream the matching audit records, oldest first, as JSON lines or CSV. */
        get: {
            parameters: {
                query?: {
                    agent?: string;
                    /** @description argument filters, repeat for several (all must hold, at most 8): path=value (equal), path^=prefix, path>=n, path>n, path<=n, path<n; path is dotted keys into the call's arguments (e.g. account, amount, payee.country) */
                    arg?: string | string[];
                    /** @description decisions with this cause: what decided them (rule, limit, risk, default) or why they were refused (paused, invalid_arguments, unknown_tool, no_policy, evaluation_error) */
                    cause?: "rule" | "limit" | "risk" | "default" | "paused" | "invalid_arguments" | "unknown_tool" | "no_policy" | "evaluation_error";
                    effect?: "allow" | "require_approval" | "block";
                    /** @description decisions of agents registered in this environment */
                    environment?: string;
                    format?: "jsonl" | "csv";
                    /** @description inclusive */
                    from?: string;
                    /** @description decisions of agents registered with this role */
                    role?: string;
                    rule?: string;
                    /** @description exclusive */
                    to?: string;
                    tool?: string;
                    type?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/x-ndjson": unknown;
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/audit/stream": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Every audit record after `after` (or the SSE `Last-Event-ID`), oldest first, then each new record as it is committed by any instance: exactly once and in order across reconnects (resume after the last seq received). NDJSON (one record per line, blank lines as heartbeats), or Server-Sent Events (`event: record`, `id: <seq>`) with `Accept: text/event-stream` or `format=sse`. Each record carries `prevHash` and `hash`, so a receiver verifies the chain as it goes. `follow=false` ends at the newest record. A line/event `error` (`audit_gap`, `store_unavailable`, or `audit_archived` with the `seq` and `hash` of the last archived record when `after` is below it) ends the stream. */
        get: {
            parameters: {
                query?: {
                    /** @description the last seq already received; 0: from the first record */
                    after?: number;
                    /** @description false: end once the newest record is sent */
                    follow?: "true" | "false";
                    /** @description default: sse when Accept names text/event-stream, else ndjson */
                    format?: "ndjson" | "sse";
                };
                header?: {
                    accept?: string;
                    "last-event-id"?: string;
                };
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/x-ndjson": unknown;
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/audit/types": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Every type of audit record the server writes (for type filters). */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            types: string[];
                        };
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/audit/verify": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Walk the hash chain; names the first edited, missing or reordered record, and answers the head hash to anchor elsewhere. With `expectHead` (an anchored head): fails unless that record is still in the chain (a truncated or rewritten tail), else says how many records follow it. */
        get: {
            parameters: {
                query?: {
                    /** @description a head hash printed by an earlier verify */
                    expectHead?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["VerifyResult"];
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/auth/login": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Sign in; sets an HttpOnly session cookie and returns the CSRF token to send as x-airlock-csrf. 403 password_login_disabled when password sign-in is switched off (AIRLOCK_PASSWORD_LOGIN=off). Attempts are counted before the password is checked (by default 5 a minute per username and address, 20 per username; past that 429 rate_limited with Retry-After). */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        password: string;
                        username: string;
                    };
                };
            };
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Session"];
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/auth/logout": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Sign out and end the session. */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Ok"];
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/auth/methods": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** How people sign in here: with a password (unless switched off), and through single sign-on when a provider is configured. */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["SignInMethods"];
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/auth/oidc/callback": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The OpenID Connect provider's redirect back: takes the sign-in once (a replayed, tampered or foreign callback is refused), exchanges the code, validates the ID token, maps the claims to a role and approver groups, opens a session (cookie as for POST /v1/auth/login) and redirects (303) to the console. A refusal redirects to `/?sso_error=<code>` (sso_state_invalid, sso_failed, sso_no_role, sso_claim_invalid, sso_username_taken, sso_user_disabled, sso_unavailable). */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "*/*": unknown;
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/auth/oidc/start": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Starts a single sign-on: redirects (303) to the OpenID Connect provider with an authorization code request (PKCE S256, state, nonce) and sets the HttpOnly cookie that binds the sign-in to this browser (10 minutes). 404 sso_not_configured without a provider; 502 sso_unavailable when its discovery document does not answer. */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "*/*": unknown;
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/auth/session": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The signed-in person and the CSRF token of the session (for a reloaded page). With an API token: the person, the role the token acts with, and the token id (no CSRF token). */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Session"];
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/decide": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Decide a tool call: allow, require_approval or block. Durable (audited) before it answers. */
        post: {
            parameters: {
                query?: never;
                header?: {
                    /** @description the caller starts the call if the answer allows it; the id of this attempt. Claims a fresh allow, or a replayed one no attempt claimed (audited call.started); a decision that already ran is refused 409 already_ran (audited call.refused). The same id again gets the same answer */
                    "airlock-claim"?: string;
                    /** @description with Idempotency-Key, when the key's decision already ran: decide = a new call with a repeated id, decided afresh (audited, counted) under the key; refuse (default) = answer the stored decision, a claim is refused */
                    "airlock-repeat"?: "decide" | "refuse";
                    /** @description retry a lost answer: the same key (per agent, 24 h) answers the stored decision, marked replay: true and replayOf, without deciding, auditing or counting again. It is not a way to run a call twice: a decision authorizes one run (Airlock-Claim) */
                    "idempotency-key"?: string;
                };
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        args?: {
                            [key: string]: unknown;
                        };
                        /** @description the agent's stated reason for the call: recorded and shown to approvers, never used to decide */
                        intent?: string;
                        session?: string;
                        /** @description attributes the application bound to the session (never the model): visible to policy as session.<name> */
                        sessionAttributes?: {
                            [key: string]: string | number | boolean;
                        };
                        tool: string;
                    };
                };
            };
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["DecisionResponse"];
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/edge/decisions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Edge mode: the allows an SDK answered in-process, in a batch (at most 500). Each is re-checked with the server's copy of the version used and audited as a `decision` record with `edge` (whether the server agreed); answers the verdicts. A report already recorded (same id, same agent: a batch resent because its answer was lost) is not recorded again; its first verdict is answered, and `recorded` counts only the new ones. */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        decisions: {
                            at: number;
                            call: {
                                args: {
                                    [key: string]: unknown;
                                };
                                intent?: string;
                                session?: string;
                                sessionAttributes?: {
                                    [key: string]: string | number | boolean;
                                };
                                tool: string;
                            };
                            id: string;
                            /** @description a second run of a local allow the SDK refused (one decision, one run): audited as call.refused, not as a decision */
                            refused?: {
                                /** @constant */
                                code: "already_ran";
                                decision: string;
                                firstRunAt: string;
                            };
                            /** @description the deciding rule or limit id; null for the policy default, a risk tier or an error */
                            rule: string | null;
                            version: number;
                        }[];
                    };
                };
            };
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["EdgeVerdicts"];
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/edge/stream": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Edge mode, Server-Sent Events for one agent key: `hello` (the key's identity), `policy` (of the active version, now and on every activation, the policies that apply to the key's role, without other environments' overrides), `pauses` (the pauses that concern the agent, now and on every change); a comment line every 500 ms. */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "text/event-stream": unknown;
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/events": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Server-Sent Events: `decision`, `approval`, `outcome` (`{agent, decisions}`: outcomes recorded or reported again), `anomaly` and `pause` events as they happen. */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "text/event-stream": unknown;
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/fleet": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Every agent with role, environment, last seen, decision mix in the range, hourly blocked-rate trend and anomaly flags; optionally only the agents of one role or environment (or one agent), counting the calls of one tool. */
        get: {
            parameters: {
                query?: {
                    agent?: string;
                    /** @description series bucket width (1m, 5m, 1h, 1d…); default: about 120 points over the range */
                    bucket?: string;
                    environment?: string;
                    /** @description inclusive; default: 24 hours before `to` */
                    from?: string;
                    role?: string;
                    /** @description exclusive; default: now */
                    to?: string;
                    tool?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            agents: components["schemas"]["FleetAgent"][];
                            from: string;
                            to: string;
                        };
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/fleet/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One agent: the fleet view plus its decisions over time and its top tools and rules. */
        get: {
            parameters: {
                query?: {
                    /** @description series bucket width (1m, 5m, 1h, 1d…); default: about 120 points over the range */
                    bucket?: string;
                    /** @description inclusive; default: 24 hours before `to` */
                    from?: string;
                    /** @description exclusive; default: now */
                    to?: string;
                };
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["FleetAgentDetail"];
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/keys/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Revoke an API key; it stops working at once. */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiKey"];
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/keys/{id}/rotate": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Rotate an API key: revoke it and issue its successor for the same agent in one audited step (`key.rotated`). The old key is refused from the next request; the new `key` is shown this once. A key already revoked or rotated: `key_revoked` (409). */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["RotatedApiKey"];
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/outcomes": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Execution outcomes: what ran after the agent's decisions, in a batch (at most 500): `started`, `succeeded` or `failed`, with duration, error class and message, and the result's SHA-256 and size. Recorded as `call.started` / `call.executed` / `call.failed` in the audit chain, linked to the decision and its approval. Each is answered `recorded`, or refused: `unknown_decision`, `decision_of_another_agent`, `decision_not_runnable`, `outcome_already_reported` (one outcome per decision). */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        outcomes: {
                            /** @description when it happened (epoch ms, the agent clock; kept between the decision and now) */
                            at: number;
                            /** @description the decision's `at`, as the decide answered it */
                            decidedAt: string;
                            decisionId: string;
                            durationMs?: number;
                            error?: {
                                class: string;
                                message: string;
                            };
                            result?: {
                                /** @description the text itself (cut), kept only when the policy sets `recordResult: true` for the tool */
                                content?: string;
                                /** @description SHA-256 (hex) of the result's JSON text */
                                digest: string;
                                /** @description bytes of that text */
                                size: number;
                                truncated?: boolean;
                            };
                            /** @enum {string} */
                            status: "started" | "succeeded" | "failed";
                        }[];
                    };
                };
            };
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["OutcomesRecorded"];
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/outcomes/{decisionId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The outcome of one decision (`approval=1`: the id is an approval's, the outcome of the call it allowed). */
        get: {
            parameters: {
                query?: {
                    approval?: "0" | "1";
                };
                header?: never;
                path: {
                    decisionId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Outcome"];
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/outcomes/failure-rates": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Failure rate per agent and tool over the outcomes finished in the window. */
        get: {
            parameters: {
                query?: {
                    agent?: string;
                    /** @description seconds */
                    window?: number;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            rates: components["schemas"]["FailureRate"][];
                        };
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/outcomes/orphans": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Calls the trail cannot account for, of the agents that report outcomes (from their first report): allowed calls and redeemed approvals with no outcome after the grace period, calls started and never finished, calls reported twice. */
        get: {
            parameters: {
                query?: {
                    agent?: string;
                    /** @description seconds a call may run before it counts as unreported */
                    grace?: number;
                    limit?: number;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Orphans"];
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/pauses": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Pauses of the fleet, an agent, a role or a tool (manual or by quarantine), newest first; `active=true` for those in force. */
        get: {
            parameters: {
                query?: {
                    active?: "true" | "false";
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            pauses: components["schemas"]["Pause"][];
                        };
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        /** Pause the fleet, an agent, a role or a tool: every decision in scope is `block` with code `paused`, and approved calls in scope cannot be redeemed, until resumed, or, with `for` or `until`, until that time. Answers the active pause (an existing one for the same scope is returned as is). */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @description a timed pause: it ends by itself after this long (30m, 2h, 1d) */
                        for?: string;
                        reason: string;
                        /** @enum {string} */
                        scope: "fleet" | "agent" | "role" | "tool";
                        /** @description the agent, role or tool (not for the fleet) */
                        target?: string;
                        /**
                         * Format: date-time
                         * @description a timed pause: it ends by itself at this time
                         */
                        until?: string;
                    };
                };
            };
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Pause"];
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/pauses/{id}/resume": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Resume: end a pause (audited). */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Pause"];
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/policies": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List policy versions. */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            active: number | null;
                            versions: components["schemas"]["PolicyVersion"][];
                        };
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        /** Upload a bundle as a new (inactive) version, with an optional `note`. Invalid bundles answer 422 with every error, by file, line and column (a plain `message`, the parser's own text as `detail`); valid ones carry `warnings`, the findings of `airlock policy check`. */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        files: {
                            file: string;
                            text: string;
                        }[];
                        /** @default bundle */
                        name?: string;
                        /** @description what changed and why; shown with the version and recorded in the audit trail */
                        note?: string;
                    };
                };
            };
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["PolicyVersion"];
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/policies/{version}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One version with its sources. */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    version: number;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["PolicyVersionDetail"];
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/policies/{version}/activate": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Activate a version atomically; pushed to /v1/policy/stream subscribers. */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    version: number;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["PolicyVersion"];
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/policies/{version}/shadow": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Shadow mode: this version decides every live call beside the active one, enforcing nothing; disagreements are audited (`shadow.flip`). */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    version: number;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ShadowReport"];
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/policies/diff": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Unified diff, per file, between two versions. */
        get: {
            parameters: {
                query: {
                    from: number;
                    to: number;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            files: components["schemas"]["FileDiff"][];
                        };
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/policies/rollback": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Re-activate the version that was active before the current one. */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["PolicyVersion"];
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/policies/shadow": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The shadowed version and its disagreements with the active one, counted by candidate rule, with examples (null when none). */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            shadow: components["schemas"]["ShadowReport"] | null;
                        };
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        /** Stop shadowing. */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            stopped: number | null;
                        };
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/policies/shadow/promote": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Activate the shadowed version and stop shadowing, in one step. */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["PolicyVersion"];
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/policies/simulate": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Try a draft bundle without storing it: on one hand-written call, or on the last N (≤ 100000) recorded decisions replayed in time order with fresh limit state; reports which decisions would flip. */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @description a hand-written call, decided by the active version and the draft */
                        call?: {
                            agent: string;
                            /** @default {} */
                            args?: {
                                [key: string]: unknown;
                            };
                            /** @description default: the registered agent's */
                            environment?: string;
                            /** @description default: the registered agent's */
                            role?: string;
                            session?: string;
                            tool: string;
                        };
                        files: {
                            file: string;
                            text: string;
                        }[];
                        /** @description replay the last N recorded decisions against the draft */
                        last?: number;
                        /** @default bundle */
                        name?: string;
                    };
                };
            };
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Simulation"];
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/policies/suggestions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Progressive trust: changes to the active version that approval history supports (default: the last 30 days), each with its evidence, a diff and the candidate bundle to simulate or upload. Nothing is applied. */
        get: {
            parameters: {
                query?: {
                    /** @description a duration such as 30d (default) */
                    since?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["SuggestionsReport"];
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/policies/validate": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Validate a bundle without storing it: 422 with every error, or `valid: true` with `warnings` (the findings of `airlock policy check`). */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        files: {
                            file: string;
                            text: string;
                        }[];
                        /** @default bundle */
                        name?: string;
                    };
                };
            };
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["BundleCheck"];
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/policy/stream": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Server-Sent Events: the active policy now, then a `policy` event on every activation. */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "text/event-stream": unknown;
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/stats/overview": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Decisions over time by effect, top blocked tools and refusal causes, the per-environment split, the approval queue with its oldest approval, and the median time people took to decide; optionally of one agent, role, tool or environment. */
        get: {
            parameters: {
                query?: {
                    agent?: string;
                    /** @description series bucket width (1m, 5m, 1h, 1d…); default: about 120 points over the range */
                    bucket?: string;
                    environment?: string;
                    /** @description inclusive; default: 24 hours before `to` */
                    from?: string;
                    role?: string;
                    /** @description exclusive; default: now */
                    to?: string;
                    tool?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Overview"];
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
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
        /** Your API tokens (never their secrets). An admin may pass `user` for one person's, or `all=true` for everyone's. */
        get: {
            parameters: {
                query?: {
                    all?: "true" | "false";
                    user?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            tokens: components["schemas"]["PersonalToken"][];
                        };
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        /** Create an API token that acts as you (Authorization: Bearer apt_…, no CSRF header), with your role or a narrower `role`, optionally expiring. Needs a signed-in session. The `token` in the answer is shown this once. */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** Format: date-time */
                        expiresAt?: string;
                        expiresInDays?: number;
                        name: string;
                        /** @enum {string} */
                        role?: "admin" | "policy-author" | "approver" | "viewer";
                    };
                };
            };
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["CreatedPersonalToken"];
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/tokens/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Revoke one of your API tokens (an admin: anyone's); it stops working on the next request, on every instance. */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["PersonalToken"];
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/users": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List people, their roles and approver groups, and whether they are disabled. */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            users: components["schemas"]["User"][];
                        };
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        /** Create a person (or a bot: a service account whose approval decisions are counted apart) with a role and, optionally, approver groups. */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        groups?: string[];
                        /** @enum {string} */
                        kind?: "person" | "bot";
                        password: string;
                        /** @enum {string} */
                        role: "admin" | "policy-author" | "approver" | "viewer";
                        username: string;
                    };
                };
            };
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["User"];
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/users/{username}/disable": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Disable a person (audited: `user.disabled`): their sessions end at once, sign-in and their API tokens are refused until enabled. Not yourself, not the last admin (`last_admin`). */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    username: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["User"];
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/users/{username}/enable": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Enable a disabled person again (audited: `user.enabled`). */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    username: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["User"];
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/users/{username}/groups": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Replace a person's approver groups: the approval tiers they may act on (audited). */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    username: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        groups: string[];
                    };
                };
            };
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["User"];
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/users/{username}/role": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Change a person's role (audited: `user.role_changed`); it holds from their next request, for their tokens too. The last admin keeps the role (`last_admin`). */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    username: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @enum {string} */
                        role: "admin" | "policy-author" | "approver" | "viewer";
                    };
                };
            };
            responses: {
                /** @description Success */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["User"];
                    };
                };
                /** @description Error */
                default: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        Agent: {
            createdAt: string;
            createdBy: string;
            environment: string;
            id: string;
            role: string;
        };
        AgentListed: {
            activeKeys: number;
            createdAt: string;
            createdBy: string;
            environment: string;
            id: string;
            /** @description Its newest decision, read from the audit trail; null: never decided. */
            lastSeen: string | null;
            role: string;
        };
        AgentTools: {
            agent: string;
            environment: string;
            policy: {
                bundle: string;
                version: number;
            } | null;
            role: string;
            tools: components["schemas"]["ToolReach"][];
        };
        AnomalyAlert: {
            agent: string;
            anomalies: {
                agent: string;
                /** @description the series' average per bucket before; for `failure_rate`, the tool's failure rate before (0 to 1) */
                baseline: number;
                bucketStart: number;
                /** @enum {string} */
                code: "rate_spike" | "new_tool" | "failure_rate";
                count: number;
                message: string;
                /** @enum {string} */
                metric: "calls" | "blocks" | "approvals" | "limit_hits" | "failures";
                /** @description `failure_rate`: calls whose outcome was reported in the bucket (`count` of them failed) */
                reported?: number;
                threshold: number;
                tool: string | null;
            }[];
            at: string;
            bucketEnd: string;
            bucketStart: string;
            id: string;
            summary: string;
        };
        AnomalyBaseline: {
            agents: {
                agent: string;
                historyMs: number;
                learning: boolean;
            }[];
            starting: boolean;
            warmupMs: number;
        };
        AnomalyFlag: {
            baselineRate: number;
            /** @constant */
            code: "blocked_rate_spike";
            message: string;
            recentRate: number;
        };
        /** @description An agent's API key; its secret is never stored. */
        ApiKey: {
            agent: string;
            createdAt: string;
            createdBy: string;
            id: string;
            revokedAt: string | null;
        };
        Approval: {
            agent: string;
            approvals: {
                at: string;
                by: string;
                edited: boolean;
                /** @enum {string} */
                kind: "person" | "bot";
                reason: string;
            }[];
            approvalsRemaining: number;
            approvers: string[];
            args: {
                [key: string]: unknown;
            };
            callHash: string;
            createdAt: string;
            deadlineAt: string | null;
            decisionId: string;
            edited: boolean;
            environment: string;
            escalatesTo: string | null;
            escalations: number;
            expiresAt: string;
            id: string;
            intent: string | null;
            onTimeout: components["schemas"]["TimeoutAction"] | null;
            policyVersion: number;
            reason: string;
            redeemedAt: string | null;
            requestedArgs: {
                [key: string]: unknown;
            };
            requiredApprovals: number;
            resolutionReason: string | null;
            resolvedAt: string | null;
            resolvedBy: string | null;
            resolvedByKind: ("person" | "bot") | null;
            role: string;
            route: components["schemas"]["ApprovalRoute"];
            rule: string | null;
            session: string | null;
            sessionAttributes: {
                [key: string]: string | number | boolean;
            } | null;
            status: components["schemas"]["ApprovalStatus"];
            tier: string;
            tierCount: number;
            tierIndex: number;
            tool: string;
        };
        ApprovalContext: {
            approval: components["schemas"]["Approval"];
            budgets: components["schemas"]["Budget"][];
            decision: components["schemas"]["Decision"] | null;
            history: components["schemas"]["HistoryEntry"][];
            /** @description older decisions were left out of `history`: it holds at most 1 MiB of records */
            historyCut: boolean;
        };
        ApprovalRoute: {
            approvers: string[];
            expiresIn: string | null;
            onTimeout: components["schemas"]["TimeoutAction"];
            required: number;
            tier: string;
            tierIndex: number;
            readonly tiers: components["schemas"]["ApprovalTier"][];
            timeout: string | null;
        };
        ApprovalStats: {
            from: string;
            rules: {
                /** @description Decisions by bot accounts, counted apart. */
                bots: {
                    count: number;
                    median: number | null;
                };
                denied: number;
                edited: number;
                escalated: number;
                expired: number;
                granted: number;
                grantRate: number | null;
                pending: number;
                requested: number;
                rule: string | null;
                timedOutAllowed: number;
                timedOutBlocked: number;
                /** @description People's decisions only. */
                timeToDecisionMs: {
                    count: number;
                    max: number | null;
                    mean: number | null;
                    median: number | null;
                    p90: number | null;
                };
            }[];
            to: string;
        };
        /** @enum {string} */
        ApprovalStatus: "pending" | "approved" | "denied" | "expired" | "redeemed";
        ApprovalTicket: {
            approvers: string[];
            deadlineAt: string | null;
            expiresAt: string;
            expiresIn: string | null;
            id: string;
            onTimeout: components["schemas"]["TimeoutAction"];
            required: number;
            status: components["schemas"]["ApprovalStatus"];
            tier: string;
            tierIndex: number;
            readonly tiers: components["schemas"]["ApprovalTier"][];
            timeout: string | null;
        };
        ApprovalTier: {
            approvers: string[];
            name: string;
            onTimeout: components["schemas"]["TimeoutAction"];
            required: number;
            timeout: string | null;
        };
        AuditRecord: {
            actor: string;
            agent: string | null;
            approval?: {
                id: string;
                status: string;
            };
            at: string;
            cause?: components["schemas"]["Cause"];
            data: unknown;
            effect: string | null;
            hash: string;
            prevHash: string;
            rule: string | null;
            seq: number;
            tool: string | null;
            type: string;
        };
        Budget: {
            adding: number;
            consumed: boolean;
            /** @enum {string} */
            effect: "require_approval" | "block";
            exceeded: boolean;
            key: string;
            /** @enum {string} */
            kind: "rate" | "budget" | "blast_radius";
            limit: string;
            max: number;
            policy: string;
            remaining: number;
            used: number;
            window: string;
        };
        BundleCheck: {
            bundle: string;
            digest: string;
            policies: string[];
            /** @constant */
            valid: true;
            warnings: components["schemas"]["Finding"][];
        };
        /**
         * @description What decided a call; for a block, why it was refused.
         * @enum {string}
         */
        Cause: "rule" | "limit" | "risk" | "default" | "paused" | "invalid_arguments" | "unknown_tool" | "no_policy" | "evaluation_error";
        CreatedPersonalToken: {
            createdAt: string;
            expiresAt: string | null;
            id: string;
            lastUsedAt: string | null;
            name: string;
            revokedAt: string | null;
            revokedBy: string | null;
            /** @description The narrower role the token was given; null: its person's role. */
            role: components["schemas"]["Role"] | null;
            /** @description The token itself (`apt_…`), shown this once. */
            token: string;
            username: string;
        };
        Decision: {
            readonly approval?: components["schemas"]["ApprovalRoute"];
            approvers?: string[];
            /** @enum {string} */
            decidedBy: "rule" | "limit" | "risk" | "default" | "error" | "pause";
            effect: components["schemas"]["Effect"];
            error?: {
                /** @enum {string} */
                code: "invalid_request" | "unknown_tool" | "no_policy" | "invalid_arguments" | "request_too_large" | "condition_error" | "engine_error" | "store_unavailable" | "paused" | "evaluation_limit";
                message: string;
                path?: string;
            };
            flagged: boolean;
            limits: components["schemas"]["LimitOutcome"][];
            matched: {
                effect?: components["schemas"]["Effect"];
                policy: string;
                risk?: number;
                rule: string;
            }[];
            policy: {
                bundle: string;
                policies: string[];
                version: string | number;
            };
            reason: string;
            readonly risk: components["schemas"]["Risk"];
            rule: string | null;
        };
        /** @description A `decision` event of GET /v1/events. */
        DecisionEvent: {
            agent: string;
            approvalId?: string;
            approvalStatus?: string;
            args: {
                [key: string]: unknown;
            };
            at: string;
            cause: components["schemas"]["Cause"];
            edge?: boolean;
            effect: string;
            environment: string;
            id: string;
            policyVersion: number | string;
            reason: string;
            risk: {
                level: string;
                score: number;
            };
            role: string;
            rule: string | null;
            seq: number;
            tool: string;
        };
        /** @description POST /v1/decide: the decision with its id, and for `require_approval` the approval it opened. */
        DecisionResponse: {
            approval?: components["schemas"]["ApprovalTicket"];
            approvers?: string[];
            at: string;
            claim?: {
                at: string;
                id: string;
            };
            /** @enum {string} */
            decidedBy: "rule" | "limit" | "risk" | "default" | "error" | "pause";
            effect: components["schemas"]["Effect"];
            error?: {
                /** @enum {string} */
                code: "invalid_request" | "unknown_tool" | "no_policy" | "invalid_arguments" | "request_too_large" | "condition_error" | "engine_error" | "store_unavailable" | "paused" | "evaluation_limit";
                message: string;
                path?: string;
            };
            flagged: boolean;
            id: string;
            limits: components["schemas"]["LimitOutcome"][];
            matched: {
                effect?: components["schemas"]["Effect"];
                policy: string;
                risk?: number;
                rule: string;
            }[];
            policy: {
                bundle: string;
                policies: string[];
                version: string | number;
            };
            ranAt?: string | null;
            reason: string;
            repeatOf?: string;
            /** @constant */
            replay?: true;
            replayOf?: string;
            readonly risk: components["schemas"]["Risk"];
            rule: string | null;
        };
        Delivery: {
            approvalId: string;
            at: string;
            attempt: number;
            channel: string;
            deliveryId: string;
            error: string | null;
            event: string;
            id: string;
            kind: string;
            nextAttemptAt: string | null;
            /** @enum {string} */
            outcome: "delivered" | "failed";
            statusCode: number | null;
        };
        EdgeVerdicts: {
            recorded: number;
            verdicts: {
                agreed: boolean;
                id: string;
                verified: boolean;
            }[];
        };
        /** @enum {string} */
        Effect: "allow" | "require_approval" | "block";
        EffectCounts: {
            allow: number;
            block: number;
            require_approval: number;
        };
        Error: {
            error: {
                code: string;
                message: string;
            };
        };
        FailureRate: {
            agent: string;
            failed: number;
            rate: number;
            succeeded: number;
            tool: string;
        };
        FileDiff: {
            file: string;
            patch: string;
            /** @enum {string} */
            status: "added" | "removed" | "modified";
        };
        /** @description A finding of `airlock policy check` (docs/policy-check.md). */
        Finding: {
            code: string;
            effect?: components["schemas"]["Effect"];
            environments: string[];
            file: string;
            line?: number;
            message: string;
            path?: string;
            policy: string;
            region?: unknown;
            roles: string[];
            rule?: string;
            rules?: string[];
            /** @enum {string} */
            severity: "warning" | "info";
            tool?: string;
        };
        FleetAgent: {
            blockedRate: number | null;
            environment: string;
            flags: components["schemas"]["AnomalyFlag"][];
            id: string;
            lastSeen: string | null;
            mix: components["schemas"]["EffectCounts"];
            role: string;
            total: number;
            trend: {
                blocked: number;
                start: string;
                total: number;
            }[];
        };
        FleetAgentDetail: {
            blockedRate: number | null;
            bucketMs: number;
            environment: string;
            flags: components["schemas"]["AnomalyFlag"][];
            id: string;
            lastSeen: string | null;
            mix: components["schemas"]["EffectCounts"];
            role: string;
            series: components["schemas"]["SeriesBucket"][];
            topBlockedTools: components["schemas"]["ValueCount"][];
            topRules: components["schemas"]["ValueCount"][];
            topTools: components["schemas"]["ValueCount"][];
            total: number;
            trend: {
                blocked: number;
                start: string;
                total: number;
            }[];
        };
        FlipGroup: {
            count: number;
            examples: {
                after: {
                    /** @enum {string} */
                    decidedBy: "rule" | "limit" | "risk" | "default" | "error" | "pause";
                    effect: components["schemas"]["Effect"];
                    reason: string;
                    rule: string | null;
                };
                before: {
                    effect: components["schemas"]["Effect"];
                    rule: string | null;
                };
                id?: string;
                request: {
                    agent: string;
                    args?: {
                        [key: string]: unknown;
                    };
                    at: string | number;
                    environment?: string;
                    intent?: string;
                    role: string;
                    session?: string;
                    sessionAttributes?: {
                        [key: string]: string | number | boolean;
                    };
                    tool: string;
                };
            }[];
            from: components["schemas"]["Effect"];
            rule: string | null;
            to: components["schemas"]["Effect"];
        };
        HistoryEntry: {
            approval?: {
                id: string;
                status: string;
            };
            args: {
                [key: string]: unknown;
            };
            at: string;
            effect: components["schemas"]["Effect"];
            id: string;
            reason: string;
            readonly risk: components["schemas"]["Risk"];
            rule: string | null;
            seq: number;
            tool: string;
        };
        IssuedApiKey: {
            agent: string;
            createdAt: string;
            createdBy: string;
            id: string;
            /** @description The key itself (`ak_…`), shown this once. */
            key: string;
            revokedAt: string | null;
        };
        LimitOutcome: {
            adding: number;
            consumed: boolean;
            /** @enum {string} */
            effect: "require_approval" | "block";
            exceeded: boolean;
            key: string;
            /** @enum {string} */
            kind: "rate" | "budget" | "blast_radius";
            limit: string;
            max: number;
            policy: string;
            used: number;
            window: string;
        };
        Ok: {
            /** @constant */
            ok: true;
        };
        OldestPending: {
            agent: string;
            createdAt: string;
            deadlineAt: string | null;
            escalatesTo: string | null;
            expiresAt: string;
            id: string;
            onTimeout: string | null;
            tool: string;
        };
        /** @description Calls the trail cannot account for, of the agents that report outcomes. */
        Orphans: {
            agents: {
                agent: string;
                since: string;
            }[];
            allowedUnreported: {
                agent: string;
                decidedAt: string;
                decisionId: string;
                /** @description the decision's audit record (sequence number), null if not found */
                seq: number | null;
                tool: string;
            }[];
            /** @description the server's time the answer was taken at */
            checkedAt: string;
            /** @description the first instant at which a call not listed now is listed, if it has still not reported finishing by then (its decision, redemption or start + the grace period + 1 ms); null when none waits. A view that must stay current asks again then (the delay: nextDueAt − checkedAt) */
            nextDueAt: string | null;
            redeemedUnreported: {
                agent: string;
                approvalId: string;
                decisionId: string;
                redeemedAt: string;
                tool: string;
            }[];
            reportedTwice: {
                agent: string;
                approvalId: string | null;
                decidedAt: string;
                decisionId: string;
                /** @description outcomes refused for this decision because one was already recorded */
                duplicates: number;
                durationMs: number | null;
                error: {
                    class: string | null;
                    message: string | null;
                } | null;
                finishedAt: string | null;
                reportedAt: string;
                result: {
                    digest: string;
                    size: number;
                } | null;
                /** @description the decision's audit record (sequence number), null if not found */
                seq: number | null;
                startedAt: string | null;
                status: ("started" | "succeeded" | "failed") | string;
                tool: string;
            }[];
            startedUnfinished: {
                agent: string;
                decidedAt: string;
                decisionId: string;
                /** @description the decision's audit record (sequence number), null if not found */
                seq: number | null;
                tool: string;
            }[];
        };
        /** @description What ran after one decision, as its agent reported it. */
        Outcome: {
            agent: string;
            approvalId: string | null;
            decidedAt: string;
            decisionId: string;
            /** @description outcomes refused for this decision because one was already recorded */
            duplicates: number;
            durationMs: number | null;
            error: {
                class: string | null;
                message: string | null;
            } | null;
            finishedAt: string | null;
            reportedAt: string;
            result: {
                digest: string;
                size: number;
            } | null;
            startedAt: string | null;
            status: ("started" | "succeeded" | "failed") | string;
            tool: string;
        };
        OutcomesRecorded: {
            outcomes: {
                decisionId: string;
                /** @description Why it was refused (final: the SDK does not send it again). */
                error?: {
                    /** @enum {string} */
                    code: "unknown_decision" | "decision_of_another_agent" | "decision_not_runnable" | "outcome_already_reported";
                    message: string;
                };
                recorded: boolean;
            }[];
            /** @description How many of the batch were recorded now. */
            recorded: number;
        };
        Overview: {
            approvals: {
                automatic: number;
                bots: {
                    medianMs: number | null;
                    resolved: number;
                };
                medianMs: number | null;
                oldestPending: components["schemas"]["OldestPending"] | null;
                pending: number;
                resolved: number;
            };
            bucketMs: number;
            environments: {
                allow: number;
                block: number;
                environment: string;
                require_approval: number;
            }[];
            filter: {
                agent?: string;
                environment?: string;
            };
            from: string;
            series: components["schemas"]["SeriesBucket"][];
            to: string;
            topBlockedRules: {
                cause: components["schemas"]["Cause"];
                count: number;
                value: string | null;
            }[];
            topBlockedTools: components["schemas"]["ValueCount"][];
            totals: components["schemas"]["EffectCounts"];
        };
        Pause: {
            active: boolean;
            createdAt: string;
            createdBy: string;
            endsAt: string | null;
            id: string;
            /** @enum {string} */
            kind: "manual" | "quarantine";
            reason: string;
            resumedAt: string | null;
            resumedBy: string | null;
            /** @enum {string} */
            scope: "fleet" | "agent" | "role" | "tool";
            target: string | null;
        };
        PersonalToken: {
            createdAt: string;
            expiresAt: string | null;
            id: string;
            lastUsedAt: string | null;
            name: string;
            revokedAt: string | null;
            revokedBy: string | null;
            /** @description The narrower role the token was given; null: its person's role. */
            role: components["schemas"]["Role"] | null;
            username: string;
        };
        PolicySource: {
            file: string;
            text: string;
        };
        PolicyVersion: {
            active: boolean;
            bundle: string;
            createdAt: string;
            createdBy: string;
            digest: string;
            files: string[];
            note?: string;
            version: number;
        };
        PolicyVersionDetail: {
            active: boolean;
            bundle: string;
            createdAt: string;
            createdBy: string;
            digest: string;
            files: string[];
            note?: string;
            sources: components["schemas"]["PolicySource"][];
            version: number;
        };
        ReplayReport: {
            after: components["schemas"]["EffectCounts"];
            before: components["schemas"]["EffectCounts"];
            calls: number;
            flipped: number;
            flips: components["schemas"]["FlipGroup"][];
        };
        Risk: {
            /** @enum {string} */
            level: "low" | "medium" | "high" | "critical";
            score: number;
        };
        /** @enum {string} */
        Role: "admin" | "policy-author" | "approver" | "viewer";
        RotatedApiKey: {
            agent: string;
            createdAt: string;
            createdBy: string;
            id: string;
            /** @description The key itself (`ak_…`), shown this once. */
            key: string;
            /** @description The key revoked by this rotation. */
            replaces: string;
            revokedAt: string | null;
        };
        SeriesBucket: {
            allow: number;
            block: number;
            require_approval: number;
            start: string;
        };
        /** @description The signed-in person; `csrfToken` is null when they authenticated with an API token (`tokenId`). */
        Session: {
            csrfToken: string | null;
            expiresAt?: string;
            tokenId?: string;
            user: components["schemas"]["SessionUser"];
        };
        SessionUser: {
            groups: string[];
            id: string;
            /** @enum {string} */
            kind: "person" | "bot";
            role: components["schemas"]["Role"];
            username: string;
        };
        ShadowReport: {
            after: components["schemas"]["EffectCounts"];
            before: components["schemas"]["EffectCounts"];
            calls: number;
            flipped: number;
            flips: components["schemas"]["FlipGroup"][];
            since: string;
            version: number;
        };
        /** @description How people sign in on this server. */
        SignInMethods: {
            /** @description false: password sign-in is switched off (POST /v1/auth/login answers 403 password_login_disabled) */
            password: boolean;
            /** @description Single sign-on through an OpenID Connect provider; null when none is configured */
            sso: {
                /** @description The provider, for "Sign in with <name>" */
                name: string;
                /** @description Where the browser goes to start it */
                url: string;
            } | null;
        };
        Simulation: {
            /**
             * @description the calls asked for held more than 256 MiB of records: the replay covers the newest that fit, from `from` on
             * @constant
             */
            cutBySize?: true;
            from: string | null;
            /** @constant */
            mode: "recorded";
            report: components["schemas"]["ReplayReport"];
            to: string | null;
        } | {
            candidate: components["schemas"]["Decision"];
            current: {
                decision: components["schemas"]["Decision"];
                version: number;
            } | null;
            flipped: boolean;
            /** @constant */
            mode: "call";
            request: {
                agent: string;
                args?: {
                    [key: string]: unknown;
                };
                at: string | number;
                environment?: string;
                intent?: string;
                role: string;
                session?: string;
                sessionAttributes?: {
                    [key: string]: string | number | boolean;
                };
                tool: string;
            };
        };
        Suggestion: {
            allowRule: string;
            approvalRule: string;
            argument: string;
            candidate: {
                files: components["schemas"]["PolicySource"][];
                name: string;
            };
            evidence: {
                approved: number;
                denied: number;
                edited: number;
                highest: number;
                lowest: number;
                undecided: number;
                wouldAllow: number;
            };
            file: string;
            from: number;
            id: string;
            /** @constant */
            kind: "raise_allow_threshold";
            message: string;
            patch: string;
            policy: string;
            review: string[];
            to: number;
            tool: string;
        };
        SuggestionsReport: {
            approvals: number;
            from: string;
            suggestions: components["schemas"]["Suggestion"][];
            to: string;
            version: number | null;
        };
        /** @enum {string} */
        TimeoutAction: "escalate" | "block" | "allow";
        ToolReach: {
            /** @enum {string} */
            reach: "open" | "blocked";
            reason: string | null;
            rule: string | null;
            tool: string;
        };
        User: {
            createdAt: string;
            createdBy: string;
            disabledAt: string | null;
            groups: string[];
            id: string;
            /** @enum {string} */
            kind: "person" | "bot";
            role: components["schemas"]["Role"];
            username: string;
        };
        ValueCount: {
            count: number;
            value: string | null;
        };
        VerifyResult: {
            anchor?: {
                following: number;
                hash: string;
                seq: number;
            };
            base?: {
                attestedBy: number | null;
                file: string | null;
                hash: string;
                seq: number;
            };
            head: string | null;
            /** @constant */
            ok: true;
            records: number;
        } | {
            /** @constant */
            ok: false;
            reason: string;
            records: number;
            seq: number;
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export type operations = Record<string, never>;

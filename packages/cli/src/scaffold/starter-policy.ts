/**
 * The starter policy and its test suite that `airlock init` writes (packages/cli/test/init.test.ts
 * runs `airlock policy test` and `airlock policy check` on them, and validates them against the
 * JSON Schemas). Generic tools (orders, emails, refunds, deletes) show each part of the format:
 * argument schemas, allow / require_approval / block rules, a budget and a rate limit, default block.
 */

/** policies/my-agent.yaml; its first line points at ../schemas/policy.schema.json. */
export const STARTER_POLICY = `# yaml-language-server: $schema=../schemas/policy.schema.json
#
# A starter policy. Airlock decides every tool call of your agent before it runs: allow,
# require_approval (a person decides) or block. Replace the four example tools with your agent's
# own (the names your code uses), keep the shape, and run \`npx airlock policy test\` after each
# change. Every key is explained in docs/policy-format.md of the Airlock repository; an editor
# with YAML support (e.g. VS Code's YAML extension) completes and checks this file.
policy: my-agent
description: What my agent may do on its own, what needs a person, and what it may never do.
appliesTo:
  roles: [assistant]          # agents with this role are governed by this policy
default: block                # a declared tool that no rule matches is blocked; an undeclared tool always is

tools:                        # every tool the agent may call, each argument checked by a JSON Schema
  search_orders:
    description: Look up a customer's orders.
    args:
      customer_id: { type: string, minLength: 1, maxLength: 64 }
  send_email:
    description: Email a customer.
    args:
      to: { type: string, format: email }
      subject: { type: string, minLength: 1, maxLength: 200 }
      body: { type: string, maxLength: 10000 }
  issue_refund:
    description: Refund money on an order.
    args:
      order_id: { type: string, minLength: 1, maxLength: 64 }
      amount: { type: number, minimum: 0 }
    # All declared arguments are required and no others are accepted; \`required: [...]\` and
    # \`additionalArgs: true\` change that.
  delete_customer:
    description: Delete a customer and all their data.
    args:
      customer_id: { type: string, minLength: 1, maxLength: 64 }

rules:                        # the strictest matching rule wins: block > require_approval > allow
  - id: search-orders
    tool: search_orders
    effect: allow

  - id: email-customers
    tool: send_email
    effect: allow             # within the email-rate limit below

  - id: refund-small
    tool: issue_refund
    when: args.amount <= 100  # a CEL condition over the call: args, agent, role, environment, …
    effect: allow
  - id: refund-medium
    tool: issue_refund
    when: args.amount > 100 && args.amount <= 1000
    effect: require_approval
    approvers: [support-leads]   # who may approve (groups of people in the Airlock server)
    reason: Refunds over $100 need a support lead
  - id: refund-large
    tool: issue_refund
    when: args.amount > 1000
    effect: block
    reason: Refunds over $1000 are never made by an agent

  - id: no-deletes
    tool: delete_customer
    effect: block
    reason: Agents never delete customers

limits:                       # totals over a sliding window, one counter per key
  - id: refund-budget
    tools: [issue_refund]
    key: [agent]
    sum: args.amount          # a budget: the sum of the amounts …
    max: 500
    window: 24h
    effect: require_approval
    approvers: [support-leads]
    reason: More than $500 refunded by one agent in 24 hours needs a support lead
  - id: email-rate
    tools: [send_email]
    key: [agent, args.to]     # … or a rate: each call counts 1
    max: 3
    window: 1h
    effect: block
    reason: At most 3 emails an hour to one address
`;

/** policies/tests/my-agent.yaml; its first line points at ../../schemas/policy-test.schema.json. */
export const STARTER_SUITE = `# yaml-language-server: $schema=../../schemas/policy-test.schema.json
#
# What the starter policy must decide; \`npx airlock policy test\` runs every suite in this folder.
# Add a case for every rule you write, and for the edges of every condition.
suite: my-agent
defaults:                     # merged into every request
  agent: my-agent-1
  role: assistant

cases:
  - name: looking up orders is allowed
    request: { tool: search_orders, args: { customer_id: C-1 } }
    expect: { effect: allow, rule: search-orders }

  - name: a refund of exactly $100 is allowed
    request: { tool: issue_refund, args: { order_id: O-1, amount: 100 } }
    expect: { effect: allow, rule: refund-small }
  - name: a refund of $100.01 needs a support lead
    request: { tool: issue_refund, args: { order_id: O-1, amount: 100.01 } }
    expect: { effect: require_approval, rule: refund-medium, approval: { approvers: [support-leads] } }
  - name: a refund over $1000 is blocked
    request: { tool: issue_refund, args: { order_id: O-1, amount: 1000.01 } }
    expect: { effect: block, rule: refund-large }
  - name: a negative refund is invalid
    request: { tool: issue_refund, args: { order_id: O-1, amount: -5 } }
    expect: { effect: block, rule: null, code: invalid_arguments }

  - name: the sixth $100 refund in a day goes over the budget
    steps:                    # calls in order, sharing limit state
      - request: { tool: issue_refund, args: { order_id: O-2, amount: 100 } }
        at: 2026-01-05T09:00:00Z
        repeat: 5
        every: 1h
        expect: { effect: allow, rule: refund-small }
      - request: { tool: issue_refund, args: { order_id: O-3, amount: 100 } }
        at: 2026-01-05T15:00:00Z
        expect: { effect: require_approval, rule: refund-budget }

  - name: a fourth email to one address within the hour is blocked
    steps:
      - request: { tool: send_email, args: { to: ana@example.com, subject: Your order, body: It shipped. } }
        at: 2026-01-05T09:00:00Z
        repeat: 3
        every: 10m
        expect: { effect: allow, rule: email-customers }
      - request: { tool: send_email, args: { to: ana@example.com, subject: Your order, body: It shipped. } }
        at: 2026-01-05T09:40:00Z
        expect: { effect: block, rule: email-rate }
      - request: { tool: send_email, args: { to: ana@example.com, subject: Your order, body: It shipped. } }
        at: 2026-01-05T10:05:00Z    # the first email left the window
        expect: { effect: allow, rule: email-customers }

  - name: deleting a customer is blocked
    request: { tool: delete_customer, args: { customer_id: C-1 } }
    expect: { effect: block, rule: no-deletes }
  - name: a tool the policy does not declare is blocked
    request: { tool: drop_database, args: {} }
    expect: { effect: block, rule: null, code: unknown_tool }
  - name: an agent of a role no policy governs is blocked
    request: { tool: search_orders, args: { customer_id: C-1 }, role: intern }
    expect: { effect: block, rule: null, code: no_policy }
`;

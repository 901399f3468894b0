import type { SeedScenario } from './seed-scenario.js';

const GAP_MS = 1_000;
const ENVIRONMENTS = ['dev', 'staging', 'production'] as const;
const SERVICES = ['checkout', 'search', 'billing', 'auth', 'inventory', 'notifications'] as const;
const SMALL_TYPES = ['t3.micro', 't3.small', 't3a.medium', 't4g.nano', 't2.medium'] as const;
const LARGE_TYPES = ['m5.xlarge', 'c6i.2xlarge', 'r6g.large', 'p4d.24xlarge', 'm7i.metal-48xl'] as const;
const MALFORMED_TYPES = ['T3.MICRO', 't3.micro; rm -rf /', 'huge', 't3.'] as const;

export const devops: SeedScenario = {
  policy: 'devops',
  seed: 0x5eed_0102,
  traffic: 'mostly reads; scaling, provisioning (5% malformed types), deletes and a few IAM / security-group changes; no limits in this policy',
  calls(random, count) {
    return Array.from({ length: count }, () => {
      const agent = `ops-bot-${random.int(1, 3)}`;
      const service = random.pick(SERVICES);
      const environment = random.pick(ENVIRONMENTS);
      const tool = random.weighted({
        get_metrics: 30,
        read_logs: 25,
        scale_service: 15,
        provision_instance: 15,
        delete_resource: 10,
        modify_iam_policy: 2.5,
        update_security_group: 2.5,
      });
      const base = { agent, role: 'devops', environment: 'production', tool };
      switch (tool) {
        case 'get_metrics':
        case 'read_logs':
          return { gapMs: GAP_MS, request: { ...base, args: { service, environment } } };
        case 'scale_service':
          return { gapMs: GAP_MS, request: { ...base, args: { service, environment, replicas: random.int(1, 20) } } };
        case 'provision_instance': {
          const kind = random.weighted({ small: 60, large: 35, malformed: 5 });
          const types = kind === 'small' ? SMALL_TYPES : kind === 'large' ? LARGE_TYPES : MALFORMED_TYPES;
          return { gapMs: GAP_MS, request: { ...base, args: { instance_type: random.pick(types), environment } } };
        }
        case 'delete_resource':
          return {
            gapMs: GAP_MS,
            request: { ...base, args: { resource_id: `arn:aws:ec2:eu-west-1:123456789012:volume/vol-${random.int(1e6, 9e6)}`, environment } },
          };
        case 'modify_iam_policy':
          return {
            gapMs: GAP_MS,
            request: {
              ...base,
              args: {
                policy_arn: 'arn:aws:iam::123456789012:policy/deploy',
                document: { Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
              },
            },
          };
        case 'update_security_group':
          return { gapMs: GAP_MS, request: { ...base, args: { group_id: 'sg-0abc', ingress: [{ port: 22, cidr: '0.0.0.0/0' }] } } };
      }
    });
  },
};

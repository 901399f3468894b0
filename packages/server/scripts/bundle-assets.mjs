// Copies what the server serves and seeds into the package itself, so an installed @airlock/server
// (and the `airlock` CLI on top of it) needs nothing from this repository:
//   ../dashboard/dist        → dashboard-dist/   (the built dashboard served at `/`)
//   ../../examples/policies  → seed-policies/    (the policy bundle stored as version 1 on first start)
// Run by the root `npm run build` and by `npm pack` (prepack). Fails when the dashboard is not built:
// a package without it would serve the "not built" page.
import { cpSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const serverDir = here('../');
const dashboardBuild = here('../../dashboard/dist');
const examplePolicies = here('../../../examples/policies');

if (!existsSync(`${dashboardBuild}/index.html`)) {
  console.error(`bundle-assets: ${dashboardBuild}/index.html is missing; run \`npm run build\` at the repository root first.`);
  process.exit(1);
}

const dashboardOut = `${serverDir}dashboard-dist`;
rmSync(dashboardOut, { recursive: true, force: true });
cpSync(dashboardBuild, dashboardOut, { recursive: true });

// Only the policy files: the bundle's tests and their runner stay in examples/.
const policiesOut = `${serverDir}seed-policies`;
rmSync(policiesOut, { recursive: true, force: true });
const policies = readdirSync(examplePolicies).filter((name) => name.endsWith('.yaml') || name.endsWith('.yml'));
if (policies.length === 0) {
  console.error(`bundle-assets: no policy files in ${examplePolicies}`);
  process.exit(1);
}
for (const name of policies) cpSync(`${examplePolicies}/${name}`, `${policiesOut}/${name}`);

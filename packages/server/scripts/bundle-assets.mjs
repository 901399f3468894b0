// Copies what the server serves and seeds into the package itself, so an installed @airlock/server
// (and the `airlock` CLI on top of it) needs nothing from this repository:
//   ../dashboard/dist        → dashboard-dist/   (the built dashboard served at `/`)
//   ../../examples/policies  → seed-policies/    (the policy bundle stored as version 1 on first start)
// Run by the root `npm run build` and by `npm pack` (prepack). Fails when the dashboard is not built:
// a package without it would serve the "not built" page.
//
// A mirror, not a fresh copy: files already equal are left alone, so packing while tests read these
// directories (the pack-and-install test runs beside them) never shows them half-written.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const dashboardBuild = here('../../dashboard/dist');
const examplePolicies = here('../../../examples/policies');

/** Makes `to` hold exactly the files `from` holds (those `include` accepts), writing only what differs. */
function mirror(from, to, include = () => true) {
  mkdirSync(to, { recursive: true });
  const wanted = new Set();
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const source = join(from, entry.name);
    const target = join(to, entry.name);
    if (entry.isDirectory()) {
      if (!include(entry.name, true)) continue;
      wanted.add(entry.name);
      mirror(source, target, include);
    } else if (entry.isFile() && include(entry.name, false)) {
      wanted.add(entry.name);
      const bytes = readFileSync(source);
      if (!existsSync(target) || !readFileSync(target).equals(bytes)) writeFileSync(target, bytes);
    }
  }
  for (const name of readdirSync(to)) if (!wanted.has(name)) rmSync(join(to, name), { recursive: true, force: true });
}

if (!existsSync(join(dashboardBuild, 'index.html'))) {
  console.error(`bundle-assets: ${join(dashboardBuild, 'index.html')} is missing; run \`npm run build\` at the repository root first.`);
  process.exit(1);
}
mirror(dashboardBuild, here('../dashboard-dist'));

// Only the policy files: the bundle's tests and their runner stay in examples/.
const isPolicy = (name, isDirectory) => !isDirectory && /\.ya?ml$/.test(name);
if (!readdirSync(examplePolicies).some((name) => isPolicy(name, false))) {
  console.error(`bundle-assets: no policy files in ${examplePolicies}`);
  process.exit(1);
}
mirror(examplePolicies, here('../seed-policies'), isPolicy);

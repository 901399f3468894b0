import { spawnSync } from 'node:child_process';
import { availableParallelism, cpus, loadavg, platform, release } from 'node:os';
import { fileURLToPath } from 'node:url';
import { CONTENDERS, type Contender, type Measured } from './contenders.js';
import { CORE_ENTRY } from './core.js';
import { ParityError } from './parity.js';
import { formatReport, type Row } from './report.js';

/**
 * `npm run bench:engine`: times every contender in a fresh process of its own, one at a time (two
 * cores: side by side would time the contention), in ROUNDS interleaved rounds so that a slow
 * patch of the machine hits every contender alike; each figure is the median over the rounds.
 * Exits 0 whatever the numbers: benchmarks report, they don't gate. Exits 1 only when a contender
 * decides differently from the engine, because then no ratio against it means anything.
 */

const CHILD = fileURLToPath(new URL('./run-contender.ts', import.meta.url));
const ROUNDS = 3;
/** cedar-wasm can still crash V8 now and then; a crashed process is retried, a wrong answer is not. */
const ATTEMPTS = 3;
const CHILD_TIMEOUT_MS = 120_000;

/** Which core was measured: the commit, and whether packages/core differed from it. */
function coreRevision(): string {
  const git = (...args: string[]): string | undefined => {
    const result = spawnSync('git', args, { encoding: 'utf8' });
    return result.status === 0 ? result.stdout.trim() : undefined;
  };
  const commit = git('rev-parse', '--short', 'HEAD');
  if (!commit) return 'unknown revision (no git)';
  const changed = git('status', '--porcelain', '--', fileURLToPath(new URL('../../packages/core', import.meta.url)));
  return changed ? `${commit} + uncommitted changes in packages/core` : commit;
}

function measure(contender: Contender, round: number): { measured?: Measured; failures: number } {
  let failures = 0;
  while (failures < ATTEMPTS) {
    process.stderr.write(`round ${round}/${ROUNDS}: ${contender.label}${failures > 0 ? ` (attempt ${failures + 1})` : ''}\n`);
    const child = spawnSync(process.execPath, [...contender.nodeFlags, '--import', 'tsx', CHILD, contender.id], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      timeout: CHILD_TIMEOUT_MS,
      maxBuffer: 16 * 1024 * 1024,
    });
    if (child.status === ParityError.EXIT_CODE) {
      console.error(`\nABORTED: ${contender.label} does not decide like the engine (above).`);
      process.exit(1);
    }
    const line = child.stdout.trim().split('\n').pop();
    if (child.status === 0 && line) return { measured: JSON.parse(line) as Measured, failures };
    failures++;
    process.stderr.write(`  ${contender.id} failed: ${child.signal ? `signal ${child.signal}` : `exit ${child.status ?? 'unknown'}`}\n`);
  }
  return { failures };
}

const revision = coreRevision();
const started = Date.now();
const loadAtStart = loadavg()[0] ?? 0;
const rows: Row[] = CONTENDERS.map((contender) => ({ id: contender.id, label: contender.label, rounds: [], failures: 0 }));
for (let round = 1; round <= ROUNDS; round++) {
  CONTENDERS.forEach((contender, i) => {
    const row = rows[i] as Row;
    const { measured, failures } = measure(contender, round);
    if (measured) row.rounds.push(measured);
    row.failures += failures;
  });
}
console.log(
  formatReport(rows, {
    date: new Date().toISOString(),
    machine: `${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores, ${platform()} ${release()}, node ${process.version}`,
    engine: `${fileURLToPath(CORE_ENTRY)}, built from ${revision}`,
    seconds: (Date.now() - started) / 1000,
    load: `${loadAtStart.toFixed(1)} at the start, ${(loadavg()[0] ?? 0).toFixed(1)} at the end, on ${availableParallelism()} cores`,
  }),
);

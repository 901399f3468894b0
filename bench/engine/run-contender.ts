import { CONTENDERS } from './contenders.js';
import { ParityError } from './parity.js';

/** Child process entry: times one contender and prints its measurement as one JSON line. */
const id = process.argv[2];
const contender = CONTENDERS.find((c) => c.id === id);
if (!contender) {
  console.error(`unknown contender '${id ?? ''}'; known: ${CONTENDERS.map((c) => c.id).join(', ')}`);
  process.exit(2);
}
try {
  const measured = await contender.run();
  process.stdout.write(`${JSON.stringify(measured)}\n`);
} catch (error) {
  if (!(error instanceof ParityError)) throw error;
  console.error(`PARITY FAILURE: ${error.message}`);
  process.exit(ParityError.EXIT_CODE);
}

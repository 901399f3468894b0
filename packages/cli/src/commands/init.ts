import { mkdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { nextSteps, SCAFFOLD_DIR, scaffoldFiles, schemaFiles, type ScaffoldFile } from '../scaffold/files.js';

/**
 * `airlock init [dir]`: a policy folder for the user's own agent (default `./airlock`): a starter
 * policy, its test suite, the JSON Schemas editors check both against, a README and a `.gitignore`
 * for the data directory. Never overwrites a file unless `--force`; `--schemas` only rewrites the
 * generated schemas (after an upgrade). Exit 0 written, 1 refused (files exist).
 */

export interface InitOptions {
  /** Overwrite files that exist. */
  force?: boolean;
  /** Only (re)write the JSON Schemas. */
  schemas?: boolean;
}

export async function initCommand(dir: string | undefined, options: InitOptions, io: { stdout: Writable; stderr: Writable }): Promise<number> {
  // Shown as typed, with `/`, in every path printed and in the README's commands.
  const shown = (dir ?? SCAFFOLD_DIR).replace(/\\/g, '/').replace(/(.)\/+$/, '$1');
  const files = options.schemas ? schemaFiles() : scaffoldFiles(shown);
  const target = (file: ScaffoldFile): string => join(shown, file.path);

  // Generated files may always be rewritten; anything else only with --force.
  const overwrite = (file: ScaffoldFile): boolean => options.force === true || file.generated === true;
  const existing = (await Promise.all(files.map(async (file) => ((await exists(target(file))) && !overwrite(file) ? [file] : [])))).flat();
  if (existing.length > 0) {
    io.stderr.write(
      `airlock: ${shown} already has ${existing.map((file) => file.path).join(', ')}; nothing written (--force overwrites them)\n`,
    );
    return 1;
  }

  // In order, each file created exclusively unless it may be overwritten: of inits racing into
  // one folder, the one that creates README.md writes everything; the others write nothing.
  for (const file of files) {
    await mkdir(dirname(target(file)), { recursive: true });
    try {
      await writeFile(target(file), file.text, { flag: overwrite(file) ? 'w' : 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      io.stderr.write(`airlock: ${shown}/${file.path} was created meanwhile; stopped (--force overwrites it)\n`);
      return 1;
    }
    io.stdout.write(`  created ${shown}/${file.path}\n`);
  }

  if (options.schemas) return 0;
  io.stdout.write(
    `\nA starter policy for your agent's tools is in ${shown}/policies. Next:\n` +
      `${nextSteps(shown)
        .map((line) => `  ${line}\n`)
        .join('')}` +
      `then replace the example tools with your own; ${shown}/README.md has the steps after that.\n`,
  );
  return 0;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

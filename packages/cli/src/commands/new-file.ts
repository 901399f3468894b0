import { existsSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Why a command that reads a server database and writes a new file (a backup, an archive) cannot
 * start, in words; undefined when it can: the database exists, the destination does not (nothing
 * is ever replaced), and its folder does.
 */
export function refusedFiles(db: string | undefined, to: string, what: string): string | undefined {
  if (db !== undefined && !existsSync(db)) return `no database at ${db}`;
  if (existsSync(to)) return `${to} exists: ${what} never replaces a file; choose a new name`;
  if (!existsSync(dirname(to))) return `no folder ${dirname(to)} for ${to}`;
  return undefined;
}

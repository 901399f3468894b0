import type { PreparedEntry, PreparedRecord, Sealed } from '../../audit/record.js';
import type { StoreWrite } from '../store.js';

/**
 * Messages to the SQLite writer thread, copied by structured clone. A batch of audit entries
 * travels packed (`packEntries`): its records' fields in one flat array of strings, numbers and
 * nulls, and its state changes in one list. Structured clone writes every property name of every
 * object it copies; a decision record as objects is ~20 names around ~20 values (the record, its
 * indexed argument fields, the entry), so the flat form copies about half as much, on the event
 * loop, per record. Each record's `data` is a canonical JSON string already, copied as bytes.
 */
export type WriteRequest =
  | { id: number; kind: 'commit'; entries: PackedEntries }
  | { id: number; kind: 'apply'; writes: readonly StoreWrite[] }
  | { id: number; kind: 'ping' }
  | { id: number; kind: 'flush' }
  | { id: number; kind: 'close' };

export type WriteReply = { id: number; ok: true; sealed?: Sealed[] } | { id: number; ok: false; message: string };

/**
 * Entries in flat form. Per entry, in `fields`: type, at, actor, agent, tool, effect, rule, data,
 * decidedBy and code (null: not a decision record), the number of indexed argument fields (-1: the record has no `args`), then path, text, num of
 * each, then the number of its writes, which follow the previous entries' writes in `writes`, then
 * the index of its claim in `claims` (-1: none; an entry whose claim changes no row is dropped).
 */
export interface PackedEntries {
  fields: (string | number | null)[];
  writes: StoreWrite[];
  claims: StoreWrite[];
}

export function packEntries(entries: readonly PreparedEntry[]): PackedEntries {
  const fields: (string | number | null)[] = [];
  const writes: StoreWrite[] = [];
  const claims: StoreWrite[] = [];
  for (const { record, writes: own, claim } of entries) {
    fields.push(record.type, record.at, record.actor, record.agent, record.tool, record.effect, record.rule, record.data, record.decidedBy ?? null, record.code ?? null);
    const args = record.args;
    if (args === undefined) fields.push(-1);
    else {
      fields.push(args.length);
      for (const leaf of args) fields.push(leaf.path, leaf.text, leaf.num);
    }
    fields.push(own.length);
    for (const write of own) writes.push(write);
    if (claim === undefined) fields.push(-1);
    else fields.push(claims.push(claim) - 1);
  }
  return { fields, writes, claims };
}

export function unpackEntries({ fields, writes, claims }: PackedEntries): PreparedEntry[] {
  const entries: PreparedEntry[] = [];
  let i = 0;
  let w = 0;
  const next = () => fields[i++] as never;
  while (i < fields.length) {
    const record: PreparedRecord = { type: next(), at: next(), actor: next(), agent: next(), tool: next(), effect: next(), rule: next(), data: next() };
    const decidedBy = next() as string | null;
    const code = next() as string | null;
    if (decidedBy !== null) record.decidedBy = decidedBy;
    if (code !== null) record.code = code;
    const leaves = next() as number;
    if (leaves >= 0) {
      record.args = [];
      for (let j = 0; j < leaves; j++) record.args.push({ path: next(), text: next(), num: next() });
    }
    const count = next() as number;
    const claim = next() as number;
    entries.push(claim < 0 ? { record, writes: writes.slice(w, w + count) } : { record, writes: writes.slice(w, w + count), claim: claims[claim] as StoreWrite });
    w += count;
  }
  if (w !== writes.length) throw new Error(`packed audit batch: ${writes.length} writes for ${w} named by its entries`);
  return entries;
}

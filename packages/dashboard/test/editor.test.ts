import type { RunningServer } from '@airlock/server';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startConsoleServer, type ConsoleServer } from './support/console-server.js';
import { agentClient, type Client, personClient, refund } from './support/api.js';
import { answered, launchBrowser, reportPageOnFailure, screenshot, signInWithPassword, type TestBrowser } from './support/browser.js';
import { replaceSource, sourceEditor } from './support/policy-editor.js';

const ADMIN_PASSWORD = 'correct horse battery staple';
/** Generous bound for what the page waits for (loading, validation round trips, replays). */
const WAIT_MS = 15_000;
/** The file the tests edit. */
const FILE = 'customer-support.yaml';

/**
 * CodeMirror's interactionDelay (@codemirror/autocomplete's default, not configured by the app): for
 * this long after a completion list opens, Enter does not accept but inserts a line break.
 */
const COMPLETION_INTERACTION_DELAY_MS = 75;

describe('policy editor in Chromium', () => {
  let harness: ConsoleServer;
  let server: RunningServer;
  let browser: TestBrowser;
  reportPageOnFailure(() => browser);
  let page: Page;
  let support: Client;
  let admin: Client;
  let original: string;

  beforeAll(async () => {
    harness = await startConsoleServer('airlock-editor-', ADMIN_PASSWORD);
    server = harness.server;
    const keys = harness.keys;
    support = agentClient(server.url, keys['support-bot-1'] as string);
    admin = await personClient(server.url, 'admin', ADMIN_PASSWORD);
    const active = await admin.get<{ sources: { file: string; text: string }[] }>('/v1/policies/1');
    original = (active.body.sources.find((s) => s.file === FILE) as { text: string }).text;
    browser = await launchBrowser();
    page = browser.page;
    page.setDefaultTimeout(WAIT_MS);
    await signInWithPassword(page, server.url, 'admin', ADMIN_PASSWORD);
    expectConsoleClean({ status: 401, path: '/v1/auth/session' });
  });

  afterEach(() => {
    expect(browser.takeConsoleErrors()).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    await harness?.close();
    expect(harness?.errors).toEqual([]);
  });

  /** Fails on any console error but the API answers a step expects (Chromium logs each 4xx). */
  function expectConsoleClean(...expected: { status: number; path: string }[]): void {
    expect(browser.takeConsoleErrors(answered(...expected))).toEqual([]);
  }

  const nav = (name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });
  const editor = () => sourceEditor(page, FILE);
  const lineOf = (text: string, needle: string): number => text.split('\n').findIndex((l) => l.includes(needle)) + 1;

  /**
   * Accepts `label` from the completion list with Enter, as a person does. Enter accepts only what
   * is selected in a settled list (not one marked disabled while a newer result is pending) that
   * opened at least the interaction delay ago; otherwise it inserts a line break. So: wait until the
   * selected option of a settled list is `label`, wait out the delay from that moment (the list
   * opened no later than it was seen), then press Enter.
   */
  async function acceptCompletion(label: string): Promise<void> {
    const selected = page.locator('.cm-tooltip-autocomplete:not(.cm-tooltip-autocomplete-disabled) li[aria-selected="true"] .cm-completionLabel');
    await selected.filter({ hasText: new RegExp(`^${label}$`) }).waitFor();
    await page.waitForTimeout(COMPLETION_INTERACTION_DELAY_MS);
    await page.keyboard.press('Enter');
  }

  it('a failed rollback reads in words, and nothing is asked when there is nothing to roll back to', async () => {
    await nav('Policies').click();
    await page.getByTestId('versions').waitFor();
    await page.getByRole('button', { name: 'Roll back' }).click();
    await page.getByRole('alert').filter({ hasText: 'There is nothing to roll back to: no earlier version was ever active.' }).waitFor();
    expect(await page.getByTestId('confirm-change').count()).toBe(0);
  });

  it('marks a CEL type error at its line and column with the plain message, the checker text as detail', async () => {
    await page.getByRole('link', { name: 'Edit a new version' }).click();
    await page.getByRole('tab', { name: 'customer-support.yaml' }).click();
    await page.getByTestId('validation').filter({ hasText: 'Valid' }).waitFor();

    const line = lineOf(original, 'when: args.amount <= 50');
    const column = (original.split('\n')[line - 1] as string).indexOf('args.amount <= 50') + 'args.amount > '.length + 1;
    await replaceSource(page, FILE, original.replace('when: args.amount <= 50', 'when: args.amount > "50"'));
    const validation = page.getByTestId('validation');
    await validation.filter({ hasText: '1 problem' }).waitFor();
    await expect(validation.innerText()).resolves.toContain('args.amount is a number but is compared with a string "50"; write 50 without quotes');
    await expect(validation.innerText()).resolves.toContain('no such overload: double > string');
    expectConsoleClean({ status: 422, path: '/v1/policies/validate' });

    // The problem links to its line and column: the caret lands on the lint mark.
    await page.getByRole('button', { name: `customer-support.yaml:${line}:${column}` }).click();
    // Waited for, not read once: the click moves the caret on the editor's next update, and until then
    // it still sits on the last line, where the paste left it.
    await page.locator('.cm-lineNumbers .cm-activeLineGutter').filter({ hasText: new RegExp(`^${line}$`) }).waitFor();
    const mark = page.locator('.cm-activeLine .cm-lintRange-error');
    await expect(mark.innerText()).resolves.toBe('"50"');
    // The mark's column: the characters of its line before it, plus one.
    // (Typed structurally: this file is checked without the DOM library.)
    const markColumn = await mark.evaluate((element) => {
      type Range = { setStart(node: unknown, offset: number): void; setEndBefore(node: unknown): void; toString(): string };
      const node = element as unknown as { closest(selector: string): unknown; ownerDocument: { createRange(): Range } };
      const range = node.ownerDocument.createRange();
      range.setStart(node.closest('.cm-line'), 0);
      range.setEndBefore(node);
      return range.toString().length + 1;
    });
    expect(markColumn).toBe(column);
    await mark.hover();
    const tooltip = page.locator('.cm-tooltip-lint');
    await tooltip.filter({ hasText: 'write 50 without quotes' }).waitFor();
    await expect(tooltip.innerText()).resolves.toContain('cel_type: no such overload: double > string');
    await screenshot(page, 'editor-cel-type-error');

    await replaceSource(page, FILE, original);
    await page.getByTestId('validation').filter({ hasText: 'Valid' }).waitFor();
  });

  it('completes tool names after tool: and a tool\'s argument fields after args.', async () => {
    await editor().click();
    await page.keyboard.press('Control+End');
    await page.keyboard.insertText('\n  - id: completion-check\n    tool: ');
    await page.keyboard.type('iss');
    const options = page.locator('.cm-tooltip-autocomplete li');
    await acceptCompletion('issue_refund');
    await page.locator('.cm-activeLine').filter({ hasText: /^ {4}tool: issue_refund$/ }).waitFor();
    await page.keyboard.insertText('\n    when: ');
    await page.keyboard.type('args.');
    // Ctrl+Space asks explicitly (what the editor's hint says), then the typed prefix narrows the list.
    await page.keyboard.press('Control+Space');
    await page.keyboard.type('cur');
    // Narrowed by the typed prefix: polled as one reading of the list (while it still follows
    // "c" alone, subject matches too; a closed list would have neither).
    const labels = options.locator('.cm-completionLabel');
    await expect.poll(async () => (await labels.allInnerTexts()).filter((label) => label === 'currency' || label === 'subject')).toEqual(['currency']);
    await acceptCompletion('currency');
    await page.keyboard.insertText(" == 'USD'\n    effect: allow");
    // Accepted completions made a valid rule.
    await page.getByTestId('validation').filter({ hasText: 'Valid' }).waitFor();
    await page.locator('.cm-line').filter({ hasText: /^ {4}when: args\.currency == 'USD'$/ }).waitFor();
    await expect(page.locator('.cm-line').filter({ hasText: 'completion-check' }).locator('xpath=following-sibling::div[1]').innerText()).resolves.toBe('    tool: issue_refund');
    await replaceSource(page, FILE, original);
    await page.getByTestId('validation').filter({ hasText: 'Valid' }).waitFor();
    // The half-typed drafts were refused by the server's validation on the way.
    expectConsoleClean({ status: 422, path: '/v1/policies/validate' });
  });

  it('saves a version with its note, asks before activating with the diff and the flip count, and lists the note', async () => {
    // History: three $30 refunds to one account, allowed under the $100 budget; two would pass $40.
    for (let i = 0; i < 3; i++) expect((await support.post<{ effect: string }>('/v1/decide', refund('EDIT-1', 30))).body.effect).toBe('allow');

    await replaceSource(page, FILE, original.replace('max: 100\n', 'max: 40\n'));
    await page.getByTestId('validation').filter({ hasText: 'Valid' }).waitFor();
    await page.getByLabel('Note (what changed and why)').fill('Refund budget down to $40 after INC-7');
    await page.getByRole('button', { name: 'Save as new version' }).click();
    await page.getByTestId('saved').filter({ hasText: 'Stored as version 2' }).waitFor();

    await page.getByRole('button', { name: 'Activate version 2' }).click();
    const dialog = page.getByRole('dialog', { name: 'Activate to version 2?' });
    await dialog.waitFor();
    await dialog.locator('.diff-add').filter({ hasText: 'max: 40' }).waitFor();
    await dialog.locator('.diff-del').filter({ hasText: 'max: 100' }).waitFor();
    await expect(dialog.getByTestId('confirm-flip-count').innerText()).resolves.toBe('2');
    // Asking changed nothing yet.
    expect((await admin.get<{ active: number }>('/v1/policies')).body.active).toBe(1);
    await screenshot(page, 'editor-confirm-activate');
    await dialog.getByRole('button', { name: 'Activate to version 2' }).click();
    await page.getByTestId('activated').waitFor();
    expect((await admin.get<{ active: number }>('/v1/policies')).body.active).toBe(2);

    await nav('Policies').click();
    const row = page.locator('[data-version="2"]');
    await row.filter({ hasText: 'active' }).waitFor();
    await expect(row.getByTestId('version-note').innerText()).resolves.toBe('Refund budget down to $40 after INC-7');
  });

  it('asks before rolling back, showing what changes; cancel keeps the version, confirm rolls back', async () => {
    await page.getByRole('button', { name: 'Roll back' }).click();
    const dialog = page.getByRole('dialog', { name: 'Roll back to version 1?' });
    await dialog.waitFor();
    await dialog.locator('.diff-add').filter({ hasText: 'max: 100' }).waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    expect((await admin.get<{ active: number }>('/v1/policies')).body.active).toBe(2);

    await page.getByRole('button', { name: 'Roll back' }).click();
    await dialog.getByRole('button', { name: 'Roll back to version 1' }).click();
    await page.getByRole('status').filter({ hasText: 'Version 1 is now active.' }).waitFor();
    expect((await admin.get<{ active: number }>('/v1/policies')).body.active).toBe(1);
  });
});

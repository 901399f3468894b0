import type { Page } from 'playwright-core';

/** The editor of one policy file on the policy editor page (CodeMirror's content element). */
export const sourceEditor = (page: Page, file: string) => page.getByLabel(`${file} source`);

/**
 * Replaces the whole text of one file in the policy editor as a person does: Ctrl+A, then paste.
 *
 * Not Playwright's `fill()`: that selects the DOM's contents and types over them, and CodeMirror
 * renders only the lines near its viewport, so it has to guess that a DOM selection spanning the
 * rendered lines means the whole document. On a busy machine, with the viewport not yet measured
 * after a scroll, the guess missed and part of the old text stayed (seen in CI: a duplicated key).
 * A paste replaces CodeMirror's own selection, which Ctrl+A set to the whole document.
 *
 * Resolves once the page has sent exactly `text` to the server for validation, so a replacement
 * that left anything behind fails here, by name, instead of as a validation that never comes.
 */
export async function replaceSource(page: Page, file: string, text: string): Promise<void> {
  const sent = page.waitForRequest((request) => {
    if (!request.url().endsWith('/v1/policies/validate')) return false;
    const body = request.postDataJSON() as { files: { file: string; text: string }[] };
    return body.files.some((f) => f.file === file && f.text === text);
  });
  const editor = sourceEditor(page, file);
  await editor.focus();
  await editor.press('Control+a');
  // Typed structurally: the tests are checked without the DOM library.
  await editor.evaluate((element, value) => {
    type Data = { setData(type: string, value: string): void };
    const scope = globalThis as unknown as {
      DataTransfer: new () => Data;
      ClipboardEvent: new (type: string, init: { clipboardData: Data; bubbles: boolean; cancelable: boolean }) => unknown;
    };
    const data = new scope.DataTransfer();
    data.setData('text/plain', value);
    (element as unknown as { dispatchEvent(event: unknown): boolean }).dispatchEvent(new scope.ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
  }, text);
  await sent;
}

// resign's progress: a redrawn bar on a terminal, plain lines (never carriage returns) in logs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { progressReporter } from '../../src/audit/progress.js';

function fakeStream(isTTY: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  let out = '';
  const stream = { isTTY, columns: 80, write: (s: string) => ((out += s), true) } as unknown as NodeJS.WriteStream;
  return { stream, text: () => out };
}

test('on a terminal the bar is redrawn in place and ends with a newline', () => {
  const { stream, text } = fakeStream(true);
  const p = progressReporter(stream, 'resign');
  p.update(1, 4, 'ns/a');
  p.update(4, 4, 'ns/d');
  p.end();
  assert.match(text(), /^\rresign \[#{8}\.{22}\] 1\/4 ns\/a/);
  assert.match(text(), /\rresign \[#{30}\] 4\/4 ns\/d\s*\n$/);
});

test('in a log, one plain line per 10% for many runs, and the last one always', () => {
  const { stream, text } = fakeStream(false);
  const p = progressReporter(stream, 'resign');
  for (let i = 1; i <= 1000; i++) p.update(i, 1000, `ns/r${i}`);
  p.end();
  const lines = text().trim().split('\n');
  assert.ok(!text().includes('\r'));
  assert.ok(lines.length >= 10 && lines.length <= 12, String(lines.length));
  assert.equal(lines.at(-1), 'resign: 1000/1000 ns/r1000');
});

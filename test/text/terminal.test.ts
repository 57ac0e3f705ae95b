import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeTerminal, escapeTerminalText } from '../../src/text/terminal.js';

test('escape sequences that clear the screen or move the cursor are shown, not executed', () => {
  const hostile = 'IMAGE\u001b[2J\u001b[H\u001b[32mVERIFIED\u001b[0m';
  const out = escapeTerminal(hostile);
  assert.equal(out, 'IMAGE\\x1b[2J\\x1b[H\\x1b[32mVERIFIED\\x1b[0m');
  assert.doesNotMatch(out, /\u001b/);
});

test('newlines cannot forge a second output line; the text form keeps them', () => {
  assert.equal(escapeTerminal('a\nVERIFIED\r'), 'a\\nVERIFIED\\r');
  assert.equal(escapeTerminalText('line one\n\tline two\u0007'), 'line one\n\tline two\\x07');
});

test('C1 controls and bidirectional overrides are escaped; ordinary non-ASCII text is kept', () => {
  assert.equal(escapeTerminal('\u009b2J'), '\\x9b2J');
  assert.equal(escapeTerminal('abc\u202edcba'), 'abc\\u202edcba');
  assert.equal(escapeTerminal('registry.example/équipe/app ✓'), 'registry.example/équipe/app ✓');
});

// Terminal injection: strings from a registry, a payload or a run (layer sources, check details, predicate types,
// names, reasons, notes) are printed escaped by `verify`, `verify-run` and `audit`, so an escape sequence cannot
// clear the screen and draw a fake VERIFIED. The JSON forms stay JSON.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderVerifyJson, renderVerifyText } from '../../src/verify/render.js';
import { renderRunReport } from '../../src/cli/verify-run.js';
import { renderAuditText } from '../../src/audit/render.js';
import type { VerifyReport } from '../../src/verify/assess.js';
import type { RunVerifyReport } from '../../src/verify/run-annotations.js';
import type { AuditResult } from '../../src/audit/audit.js';

// clear screen, cursor home, a green VERIFIED, and a bidi override that would reorder what follows
const EVIL = '\u001b[2J\u001b[H\u001b[32mVERIFIED\u001b[0m\u202e';
const noControl = (text: string) => assert.doesNotMatch(text, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202e]/);

test('verify: every registry- and payload-supplied string is escaped; the JSON keeps the raw value', () => {
  const report: VerifyReport = {
    image: `r/app${EVIL}`,
    repository: `r/app${EVIL}`,
    digest: `sha256:${EVIL}`,
    verified: false,
    firstFailure: `signature: ${EVIL}`,
    links: [{ name: 'signature', status: 'failed', required: true, detail: `docker-reference is ${EVIL}` }],
    signatures: [
      {
        source: `r/app:sha256-x.sig layer 1${EVIL}`,
        authentic: false,
        checks: [{ name: 'reference', status: 'failed', detail: EVIL }],
      },
    ],
    attestations: [{ source: 'a', authentic: false, checks: [], predicateType: EVIL }],
    notes: [`no tag ${EVIL}`],
  };
  const text = renderVerifyText(report);
  noControl(text);
  assert.match(text, /\\x1b\[2J\\x1b\[H\\x1b\[32mVERIFIED/);
  assert.match(text, /^NOT VERIFIED {2}/);
  assert.equal(JSON.parse(renderVerifyJson(report)).links[0].detail, `docker-reference is ${EVIL}`);
});

test('verify-run: annotation keys, payload fields and run names are escaped', () => {
  const report: RunVerifyReport = {
    run: `ns/build${EVIL}`,
    kind: 'TaskRun',
    uid: `u${EVIL}`,
    verified: false,
    firstFailure: `x: ${EVIL}`,
    entries: [
      {
        shortKey: `0123456789ab${EVIL}`,
        kind: 'image-signature',
        ok: false,
        subjects: [],
        checks: [{ name: 'digest', status: 'failed', detail: `signs ${EVIL}` }],
        predicateType: EVIL,
      },
    ],
  };
  const text = renderRunReport(report);
  noControl(text);
  assert.match(text, /^NOT VERIFIED {2}TaskRun ns\/build\\x1b/);
});

test('audit: namespaces, names, failure reasons and notes are escaped', () => {
  const counts = { signed: 0, unverified: 0, unlogged: 0, failed: 1, skipped: 0, pending: 0, total: 1 };
  const result = {
    generatedAt: '2026-11-23T12:00:00Z',
    scope: `namespace ns${EVIL}`,
    summary: {
      totals: counts,
      namespaces: [{ namespace: `ns${EVIL}`, ...counts }],
      signLatency: { count: 0 },
      // a certificate's SAN and issuer are whatever the run's cert annotation holds
      signers: [{ identity: `https://id${EVIL}`, issuer: `iss${EVIL}`, ...counts }],
    },
    runs: [
      {
        kind: 'TaskRun',
        namespace: `ns${EVIL}`,
        name: `r${EVIL}`,
        state: 'failed',
        reason: `StorageFailed: ${EVIL}`,
        signer: { identity: `https://id${EVIL}`, issuer: `iss${EVIL}` },
      },
    ],
    notes: [`chains-config not usable (${EVIL})`],
    marks: { verified: false },
    transparency: { enabled: false, manual: false },
  } as AuditResult;
  const text = renderAuditText(result);
  noControl(text);
  assert.match(text, /failed\s+TaskRun\s+ns\\x1b\[2J.*StorageFailed: \\x1b\[2J/);
  assert.match(text, /https:\/\/id\\x1b\[2J\S*\s+iss\\x1b\[2J/);
  // a summary without signers (built before keyless existed) still renders
  const { signers: _ignored, ...older } = result.summary;
  noControl(renderAuditText({ ...result, summary: older } as AuditResult));
});

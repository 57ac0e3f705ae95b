// How a verification reads to a person (one line per link, then each signature's own checks) and to a tool (JSON).
// Every string that came from a registry or a payload (sources, details, predicate types, notes) is escaped, so an
// escape sequence in an annotation or a statement cannot clear the screen and draw a fake VERIFIED; JSON output
// is left to JSON's own escaping.
import { escapeTerminal as e } from '../text/terminal.js';
import type { Check, LayerVerdict } from './checks.js';
import type { Link, VerifyReport } from './assess.js';

const MARK: Record<Check['status'], string> = { passed: 'PASS', failed: 'FAIL', skipped: 'skip' };

function linkLine(l: Link): string {
  const optional = l.required ? '' : ' (not required)';
  return `  ${MARK[l.status]}  ${l.name.padEnd(14)} ${e(l.detail)}${optional}`;
}

function verdictLines(title: string, verdicts: LayerVerdict[]): string[] {
  if (verdicts.length === 0) return [];
  const out = [`${title}:`];
  for (const v of verdicts) {
    const type = v.predicateType ? `  [${e(v.predicateType)}]` : '';
    out.push(`  ${v.authentic ? 'authentic' : 'INVALID  '}  ${e(v.source)}${type}`);
    if (v.signer) out.push(`             signer ${e(v.signer.identity)} (issuer ${e(v.signer.issuer || 'none')})`);
    for (const c of v.checks) out.push(`             ${MARK[c.status]}  ${e(c.name)}: ${e(c.detail)}`);
  }
  return out;
}

/** The readable report. */
export function renderVerifyText(r: VerifyReport): string {
  const lines = [
    `${r.verified ? 'VERIFIED' : 'NOT VERIFIED'}  ${e(r.repository)}${r.digest ? `@${e(r.digest)}` : ''}`,
    '',
    ...r.links.map(linkLine),
  ];
  const sigs = verdictLines('Signatures', r.signatures);
  const atts = verdictLines('Attestations', r.attestations);
  if (sigs.length + atts.length > 0) lines.push('', ...sigs, ...atts);
  if (r.notes.length > 0) lines.push('', ...r.notes.map((n) => `note: ${e(n)}`));
  if (r.firstFailure) lines.push('', `first broken link: ${e(r.firstFailure)}`);
  return lines.join('\n') + '\n';
}

/** The JSON report (stable member names; `links` in chain order). */
export function renderVerifyJson(r: VerifyReport): string {
  return JSON.stringify(r, null, 2) + '\n';
}

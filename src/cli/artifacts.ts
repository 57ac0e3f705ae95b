// `chainsmith artifacts`: what type hinting finds in a run file — subjects, materials, images to sign, and a
// finding for every rejected candidate — so a user can see why a result was (not) picked up, without a cluster.
import { extractArtifacts, type ExtractedArtifacts } from '../artifacts/index.js';
import type { Finding } from '../artifacts/types.js';
import type { RunFormat } from '../config/types.js';
import { readConfigFile } from '../config/parse.js';
import { ChainsmithError } from '../errors.js';
import { isDone, runDisplayName } from '../tekton/accessors.js';
import { groupRuns } from '../tekton/collect.js';
import { readRunFile } from '../tekton/read.js';
import type { Run } from '../tekton/types.js';
import { escapeTerminal } from '../text/terminal.js';
import { parseFlags } from './args.js';
import { CliError } from './errors.js';
import { safeJson } from './output.js';

const FORMATS: readonly RunFormat[] = ['in-toto', 'slsa/v1', 'slsa/v2alpha3', 'slsa/v2alpha4'];

export const help = `Usage: chainsmith artifacts [FLAGS] RUN_FILE|-

Prints what type hinting finds in each TaskRun and PipelineRun of RUN_FILE (JSON or YAML; one object,
several YAML documents, or a Kubernetes List holding a PipelineRun and its child TaskRuns; "-" reads stdin):
subjects (what the run built), materials (what it consumed), the images that get a simplesigning
signature (TaskRuns only), and a finding for every result that was rejected or nearly matched a hint.

Flags:
  --format F          in-toto | slsa/v1 | slsa/v2alpha3 | slsa/v2alpha4 (default: the config's
                      artifacts.<kind>.format, else in-toto); v2alpha4 also reads StepAction results
  --config FILE       a chains-config ConfigMap (or data map) for the default format and deep inspection
  --deep-inspection   include executed child TaskRuns in PipelineRun subjects and materials
                      (default: the config's artifacts.pipelinerun.enable-deep-inspection, else off)
  --json              print a JSON array with one object per run instead of tables
  -h, --help          show this help

Exit status: 0 when the file was read (findings do not change it), 2 on bad input.

Finding reasons: InvalidDigest, InvalidReference, UnpairedUrl, UnpairedDigest, NearMissName,
InvalidResult, NoArtifacts.`;

/** One run's report. */
interface RunReport extends ExtractedArtifacts {
  kind: 'TaskRun' | 'PipelineRun';
  name: string;
  namespace?: string;
  format: RunFormat;
  done: boolean;
  children?: string[];
}

/** A table of untrusted cells: each is escaped (result names and values can hold terminal escape sequences). */
function table(headers: string[], cells: string[][]): string[] {
  const rows = cells.map((r) => r.map(escapeTerminal));
  // a loop, not Math.max(...lengths): tens of thousands of rows would overflow the argument stack
  const widths = headers.map((h, i) => rows.reduce((w, r) => Math.max(w, r[i]!.length), h.length));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].map((l) => `  ${l}`);
}

function digestText(d: Record<string, string>): string {
  return Object.keys(d)
    .sort()
    .map((k) => `${k}:${d[k]}`)
    .join(' ');
}

function section(title: string, count: number, body: () => string[]): string[] {
  return count === 0 ? [`${title}: none`] : [`${title} (${count}):`, ...body()];
}

function renderFindings(findings: Finding[]): string[] {
  return table(
    ['REASON', 'RESULT', 'MESSAGE'],
    findings.map((f) => [f.reason, f.result || '-', f.message]),
  );
}

function renderReport(r: RunReport): string {
  const name = escapeTerminal(`${r.namespace ? `${r.namespace}/` : ''}${r.name}`);
  const children = r.children ? `, ${r.children.length} child TaskRun(s) in file` : '';
  const notes = `${r.done ? '' : ', run not done yet'}${children}`;
  const head = `${r.kind} ${name}  (format ${r.format}${notes})`;
  return [
    head,
    ...section('Subjects', r.subjects.length, () =>
      table(
        ['NAME', 'DIGEST'],
        r.subjects.map((s) => [s.name, digestText(s.digest)]),
      ),
    ),
    ...section('Materials', r.materials.length, () =>
      table(
        ['URI', 'DIGEST'],
        r.materials.map((m) => [m.name ? `${m.uri} (${m.name})` : m.uri, digestText(m.digest)]),
      ),
    ),
    ...(r.kind === 'TaskRun'
      ? section('Images to sign', r.images.length, () =>
          table(
            ['IMAGE', 'FROM'],
            r.images.map((i) => [`${i.repository}@${i.digest}`, i.source]),
          ),
        )
      : []),
    ...section('Findings', r.findings.length, () => renderFindings(r.findings)),
  ].join('\n');
}

/** Runs the command; see `help`. */
export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    json: { type: 'boolean' },
    format: { type: 'string' },
    config: { type: 'string' },
    'deep-inspection': { type: 'boolean' },
  });
  if (positionals.length !== 1)
    throw new CliError(
      positionals.length === 0
        ? 'missing RUN_FILE (use - for stdin)'
        : `expected one RUN_FILE, got ${positionals.length}`,
    );
  if (values.format !== undefined && !(FORMATS as readonly string[]).includes(values.format)) {
    throw new CliError(`invalid --format "${values.format}"; accepted: ${FORMATS.join(', ')}`);
  }
  let runs: Run[];
  let config;
  try {
    config = values.config !== undefined ? await readConfigFile(values.config) : undefined;
    runs = await readRunFile(positionals[0]!);
  } catch (err) {
    if (err instanceof ChainsmithError) throw new CliError(err.message);
    throw err;
  }
  const deep = values['deep-inspection'] ?? config?.artifacts.pipelinerun.deepInspection ?? false;
  const { pipelineRuns } = groupRuns(runs);
  const groupOf = new Map(pipelineRuns.map((g) => [g.run, g]));
  const reports: RunReport[] = runs.map((run) => {
    const base = {
      name: run.metadata.name ?? runDisplayName(run),
      ...(run.metadata.namespace ? { namespace: run.metadata.namespace } : {}),
      done: isDone(run),
    };
    if (run.kind === 'TaskRun') {
      const format = (values.format as RunFormat | undefined) ?? config?.artifacts.taskrun.format ?? 'in-toto';
      return {
        kind: 'TaskRun',
        format,
        ...base,
        ...extractArtifacts({ kind: 'TaskRun', run }, format, { deepInspection: deep }),
      };
    }
    const format = (values.format as RunFormat | undefined) ?? config?.artifacts.pipelinerun.format ?? 'in-toto';
    const group = groupOf.get(run) ?? { run, children: [] };
    return {
      kind: 'PipelineRun',
      format,
      ...base,
      children: group.children.map((c) => c.metadata.name ?? '?'),
      ...extractArtifacts({ kind: 'PipelineRun', run: group }, format, { deepInspection: deep }),
    };
  });
  if (values.json) {
    process.stdout.write(safeJson(reports, 2) + '\n');
  } else {
    process.stdout.write(reports.map(renderReport).join('\n\n') + '\n');
  }
  return 0;
}

// `chainsmith provenance`: the in-toto provenance statement Chains would sign for a completed run,
// computed offline from a run file. Pure: reads files, prints JSON, talks to no cluster.
import { ChainsmithError, messageOf } from '../errors.js';
import { DEFAULT_CONFIG, readConfigFile } from '../config/parse.js';
import type { BuildType, ChainsConfig, RunFormat } from '../config/types.js';
import { payloadFormat, RUN_FORMATS } from '../formats/index.js';
import { BUILD_TYPES } from '../formats/build-types.js';
import type { FormatInput } from '../formats/types.js';
import { isDone, runDisplayName } from '../tekton/accessors.js';
import { groupRuns } from '../tekton/collect.js';
import { readRunFile } from '../tekton/read.js';
import type { Run, TaskRun } from '../tekton/types.js';
import { escapeTerminal } from '../text/terminal.js';
import { parseFlags } from './args.js';
import { CliError } from './errors.js';
import { escapeJsonText } from './output.js';

export const help = `chainsmith provenance — print the in-toto provenance statement for a completed run (offline)

Usage:
  chainsmith provenance [FLAGS] RUN_FILE|-

Reads a TaskRun or PipelineRun (JSON or YAML; tekton.dev/v1, or v1beta1 converted) and prints the
in-toto statement Tekton Chains would sign for it, as compact JSON on stdout. Nothing is signed or
stored and no cluster is contacted.

RUN_FILE may be:
  - a single TaskRun or PipelineRun (\`kubectl get taskrun NAME -o json > run.json\`);
  - a Kubernetes List (or multi-document YAML) holding a PipelineRun and its child TaskRuns
    (\`kubectl get pipelinerun,taskrun -l tekton.dev/pipelineRun=NAME -o json\`). Children are matched
    by the PipelineRun's status.childReferences (or the tekton.dev/pipelineRun label) and ordered like
    childReferences, as Chains collects them;
  - \`-\` to read standard input.

Flags:
  --format FORMAT      in-toto | slsa/v1 | slsa/v2alpha3 | slsa/v2alpha4
                       in-toto and slsa/v1 (the same format) give in-toto Statement v0.1 with SLSA
                       provenance v0.2; slsa/v2alpha3 and slsa/v2alpha4 give Statement v1 with SLSA
                       provenance v1.0 (v2alpha4 adds StepAction results). Default: the config's
                       artifacts.taskrun.format or artifacts.pipelinerun.format, by the run's kind
                       (in-toto when no config is given).
  --config FILE        a chains-config ConfigMap manifest (YAML or JSON) or a plain data map; its
                       builder.id, builddefinition.buildtype, artifacts.*.format and
                       artifacts.pipelinerun.enable-deep-inspection apply. Flags override it.
  --builder-id URI     builder.id written into the statement (default https://tekton.dev/chains/v2).
  --build-type URI     buildDefinition.buildType for slsa/v2alpha3 and slsa/v2alpha4:
                       https://tekton.dev/chains/v2/slsa (default) or
                       https://tekton.dev/chains/v2/slsa-tekton (adds labels, annotations and each
                       child TaskRun's JSON).
  --deep-inspection    PipelineRuns: also take subjects, inputs (and, for slsa/v2alpha4, byproducts)
                       from every executed child TaskRun.
  --child FILE         a child TaskRun of the PipelineRun (repeatable; a file may hold several).
  --pretty             indent the JSON (2 spaces) for reading. The signed bytes are the compact form.

Strings holding DEL, C1 control characters, bidi controls or U+2028/U+2029 are printed with \\u escapes
(the same JSON value), so a run cannot drive the terminal; the signed bytes carry them as they are.
  -h, --help           show this help.

Exit status:
  0  the statement was printed
  2  bad input, with one line on stderr naming the problem: unreadable file, not a TaskRun or
     PipelineRun, run not done (no Succeeded condition, or still Unknown), invalid config, unknown
     format or build type, or a run the format cannot describe (e.g. a malformed step imageID)

A child named in status.childReferences but not supplied is reported on stderr as a warning; the
statement is still printed, without that child's steps, materials and results.

Examples:
  chainsmith provenance --format slsa/v1 --builder-id https://example.com/builders/tekton/v1 run.json
  kubectl get taskrun build-abc -o json | chainsmith provenance --format slsa/v2alpha4 --pretty -
  chainsmith provenance --config chains-config.yaml --deep-inspection pipelinerun-and-children.json
`;

/** Reads a run file, turning read/parse failures into one-line CLI errors. */
async function readRuns(path: string): Promise<Run[]> {
  try {
    return await readRunFile(path);
  } catch (err) {
    if (err instanceof ChainsmithError) throw new CliError(err.message);
    throw err;
  }
}

async function loadConfig(path: string | undefined): Promise<ChainsConfig> {
  if (path === undefined) return structuredClone(DEFAULT_CONFIG);
  try {
    // a private copy: flags override fields, and parsed configs may share frozen parts with DEFAULT_CONFIG
    return structuredClone(await readConfigFile(path));
  } catch (err) {
    if (err instanceof ChainsmithError) throw new CliError(`invalid config ${path}: ${err.message}`);
    throw err;
  }
}

/** Picks the one run the statement is about, attaching supplied children to a PipelineRun. */
function selectInput(runs: Run[], childFiles: number, warn: (line: string) => void): FormatInput {
  const groups = groupRuns(runs);
  if (groups.pipelineRuns.length > 1) {
    throw new CliError(
      `the input holds ${groups.pipelineRuns.length} PipelineRuns; pass one PipelineRun (with its child TaskRuns)`,
    );
  }
  const pr = groups.pipelineRuns[0];
  if (pr) {
    for (const tr of groups.taskRuns) {
      warn(`TaskRun ${runDisplayName(tr)} is not a child of PipelineRun ${runDisplayName(pr.run)}; ignored`);
    }
    const supplied = new Set(pr.children.map((c) => c.metadata.name));
    for (const ref of pr.run.status?.childReferences ?? []) {
      if ((ref.kind === undefined || ref.kind === 'TaskRun') && !supplied.has(ref.name)) {
        warn(
          `child TaskRun ${ref.name}${ref.pipelineTaskName ? ` (pipeline task ${ref.pipelineTaskName})` : ''} ` +
            'was not supplied; its steps, materials and results are left out',
        );
      }
    }
    return { kind: 'PipelineRun', run: pr };
  }
  if (childFiles > 0) throw new CliError('--child is only for a PipelineRun, but the input holds no PipelineRun');
  const [only, ...more] = groups.taskRuns as [TaskRun?, ...TaskRun[]];
  if (!only) throw new CliError('the input holds no TaskRun or PipelineRun');
  if (more.length > 0) {
    throw new CliError(
      `the input holds ${more.length + 1} TaskRuns and no PipelineRun; ` +
        'pass one run (or a PipelineRun with its children)',
    );
  }
  return { kind: 'TaskRun', run: only };
}

/** Runs the command; returns the exit code. Bad input throws CliError (one line, exit 2). */
export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    format: { type: 'string' },
    config: { type: 'string' },
    'builder-id': { type: 'string' },
    'build-type': { type: 'string' },
    'deep-inspection': { type: 'boolean' },
    child: { type: 'string', multiple: true },
    pretty: { type: 'boolean' },
  });
  if (positionals.length !== 1) {
    throw new CliError(
      positionals.length === 0
        ? 'missing RUN_FILE (a path, or - for stdin)'
        : `expected one RUN_FILE, got ${positionals.length}: ${positionals.join(' ')}`,
    );
  }
  const format = values.format;
  if (format !== undefined && !(RUN_FORMATS as readonly string[]).includes(format)) {
    throw new CliError(`unknown format "${format}" (accepted: ${RUN_FORMATS.join(', ')})`);
  }
  const buildType = values['build-type'];
  if (buildType !== undefined && !(BUILD_TYPES as readonly string[]).includes(buildType)) {
    throw new CliError(`unknown build type "${buildType}" (accepted: ${BUILD_TYPES.join(', ')})`);
  }
  const builderId = values['builder-id'];
  if (builderId !== undefined && builderId.trim() === '') throw new CliError('--builder-id must not be empty');

  const config = await loadConfig(values.config);
  const childFiles = values.child ?? [];
  const runs = await readRuns(positionals[0]!);
  for (const file of childFiles) {
    const children = await readRuns(file);
    const notTaskRun = children.find((r) => r.kind !== 'TaskRun');
    if (notTaskRun)
      throw new CliError(
        `--child ${file} holds a ${notTaskRun.kind} (${runDisplayName(notTaskRun)}); children are TaskRuns`,
      );
    for (const c of children) runs.push(c);
  }

  const warnings: string[] = [];
  const input = selectInput(runs, childFiles.length, (line) => warnings.push(line));
  const subject = input.kind === 'PipelineRun' ? input.run.run : input.kind === 'TaskRun' ? input.run : undefined;
  if (subject && !isDone(subject)) {
    const cond = subject.status?.conditions?.find((c) => c.type === 'Succeeded');
    const why = cond
      ? `its Succeeded condition is ${cond.status}${cond.reason ? ` (${cond.reason})` : ''}`
      : 'it has no Succeeded condition';
    throw new CliError(
      `${subject.kind} ${runDisplayName(subject)} is not done: ${why}; Chains only signs completed runs`,
    );
  }

  if (builderId !== undefined) config.builder.id = builderId;
  if (buildType !== undefined) config.buildDefinition.buildType = buildType as BuildType;
  if (values['deep-inspection']) config.artifacts.pipelinerun.deepInspection = true;
  const chosen: RunFormat =
    (format as RunFormat | undefined) ??
    (input.kind === 'PipelineRun' ? config.artifacts.pipelinerun.format : config.artifacts.taskrun.format);

  let bytes: Buffer;
  try {
    bytes = payloadFormat(chosen).createPayload(input, config).bytes;
  } catch (err) {
    if (err instanceof ChainsmithError) throw new CliError(`cannot build ${chosen} provenance: ${messageOf(err)}`);
    throw err;
  }
  for (const w of warnings) process.stderr.write(`chainsmith provenance: warning: ${escapeTerminal(w)}\n`);
  const out = values.pretty ? JSON.stringify(JSON.parse(bytes.toString('utf8')), null, 2) : bytes.toString('utf8');
  // The statement quotes the run verbatim: C1 controls and bidi overrides are printed as \u escapes (the same JSON).
  process.stdout.write(escapeJsonText(out) + '\n');
  return 0;
}

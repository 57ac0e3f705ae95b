// `chainsmith signature NAMESPACE/NAME`: prints a run's stored signature (tekton storage), decoded, like
// `tkn chain signature`: the DSSE envelope JSON for attestations, the raw signature bytes for images.
import { printStored } from './payload.js';

export const help = `Usage: chainsmith signature NAMESPACE/NAME [--kind taskrun|pipelinerun] [--key SHORTKEY]
                            [--kubeconfig FILE] [--context NAME]

Prints the signature stored on a run with the tekton storage backend (annotation
chains.tekton.dev/signature-<key>), base64-decoded. For the run's attestation that is the DSSE envelope
JSON; for an image (--key <first 12 hex digits of its digest>) the raw signature bytes (DER for ECDSA).
On a terminal, control characters are shown as escapes; redirected to a file or a pipe, the
stored bytes are written exactly.

Flags:
  --kind taskrun|pipelinerun  the run's kind (default: a TaskRun of that name, else a PipelineRun)
  --key SHORTKEY              another stored object (default: taskrun-<uid> / pipelinerun-<uid>)
  --kubeconfig FILE           kubeconfig (default: $KUBECONFIG, else in-cluster)
  --context NAME              the kubeconfig context to use (default: its current-context)
  -n, --namespace NS          the run's namespace when NAME has no NAMESPACE/ prefix (default: default)
  -h, --help                  show this help`;

export async function run(argv: string[]): Promise<number> {
  return printStored('signature', argv);
}

// Kubernetes object names, checked before they reach a request path: a namespace is a DNS-1123 label, an
// object name a DNS-1123 subdomain (what the API server itself enforces for runs, Leases, Secrets, Events…).
// Checked names can never hold `/`, `..`, `?`, `%`, `#` or whitespace, so a hostile `-n ../../api/v1/secrets`
// cannot turn a request for a run into a request for something else (issue 15).
import { ChainsmithError } from '../errors.js';
import { escapeTerminal } from '../text/terminal.js';

/** Longest namespace the API server accepts (a DNS-1123 label). */
export const MAX_NAMESPACE_LENGTH = 63;
/** Longest object name the API server accepts (a DNS-1123 subdomain). */
export const MAX_OBJECT_NAME_LENGTH = 253;

const LABEL = '[a-z0-9](?:[-a-z0-9]*[a-z0-9])?';
const DNS1123_LABEL = new RegExp(`^${LABEL}$`);
const DNS1123_SUBDOMAIN = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`);

/** Why `s` is not a namespace (DNS-1123 label), or undefined when it is one. */
export function namespaceProblem(s: string): string | undefined {
  if (s.length > MAX_NAMESPACE_LENGTH) return `is longer than ${MAX_NAMESPACE_LENGTH} characters`;
  if (!DNS1123_LABEL.test(s)) {
    return 'is not a valid namespace (lower-case letters, digits and "-", starting and ending alphanumeric)';
  }
  return undefined;
}

/** Why `s` is not an object name (DNS-1123 subdomain), or undefined when it is one. */
export function objectNameProblem(s: string): string | undefined {
  if (s.length > MAX_OBJECT_NAME_LENGTH) return `is longer than ${MAX_OBJECT_NAME_LENGTH} characters`;
  if (!DNS1123_SUBDOMAIN.test(s)) {
    return 'is not a valid object name (lower-case letters, digits, "-" and ".", starting and ending alphanumeric)';
  }
  return undefined;
}

/** A name that must not reach an API path. Not transient: the same name is refused every time. */
export class InvalidKubeNameError extends ChainsmithError {
  constructor(what: string, value: string, problem: string) {
    // the value is untrusted (a flag, a run's spec): shown escaped and shortened
    super('InvalidName', `${what} "${shorten(value)}" ${problem}`);
    this.name = 'InvalidKubeNameError';
  }
}

/** Throws InvalidKubeNameError unless `s` is a valid namespace; `what` names where it came from. */
export function assertNamespace(s: string, what = 'namespace'): string {
  const p = namespaceProblem(s);
  if (p) throw new InvalidKubeNameError(what, s, p);
  return s;
}

/** Throws InvalidKubeNameError unless `s` is a valid object name; `what` names where it came from. */
export function assertObjectName(s: string, what = 'name'): string {
  const p = objectNameProblem(s);
  if (p) throw new InvalidKubeNameError(what, s, p);
  return s;
}

function shorten(s: string): string {
  const e = escapeTerminal(s);
  return e.length > 80 ? `${e.slice(0, 80)}…` : e;
}

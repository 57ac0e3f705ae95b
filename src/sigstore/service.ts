// What the Rekor and Fulcio clients share: checking a configured service URL, and reading a sigstore service's
// error answer (`{"code":…,"message":"…"}`) as one bounded, escaped line.
import { ChainsmithError } from '../errors.js';
import { escapeTerminal } from '../text/terminal.js';

/** The base URL of a sigstore service configured under `key` (no trailing slash); InvalidConfig when unusable. */
export function serviceBase(url: string, key: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ChainsmithError('InvalidConfig', `${key}: ${JSON.stringify(url)} is not a URL`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
    throw new ChainsmithError('InvalidConfig', `${key}: ${parsed.protocol} is not http or https`);
  if (parsed.username !== '' || parsed.password !== '')
    throw new ChainsmithError('InvalidConfig', `${key}: credentials in the URL are not supported`);
  return url.replace(/\/+$/, '');
}

/** One line of untrusted text, escaped and at most 300 characters. */
export function shorten(s: string): string {
  const line = escapeTerminal(s.replace(/\s+/g, ' '));
  return line.length > 300 ? `${line.slice(0, 299)}…` : line;
}

/** The service's error message, or "" when the answer holds none. */
export function serviceMessage(body: Buffer): string {
  try {
    const m = (JSON.parse(body.toString('utf8')) as { message?: unknown }).message;
    return typeof m === 'string' ? shorten(m) : '';
  } catch {
    return '';
  }
}

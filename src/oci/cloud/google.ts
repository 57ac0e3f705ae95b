// The Google keychain: an OAuth2 access token from application default credentials (GKE Workload Identity's
// metadata server, GOOGLE_APPLICATION_CREDENTIALS, gcloud's ADC file) through the official google-auth-library,
// sent as the password of user `oauth2accesstoken` to `gcr.io`, `*.gcr.io` and `*.pkg.dev` — what
// go-containerregistry's google keychain does for Chains.
import type { GoogleAuth } from 'google-auth-library';
import { keychainError, type Keychain, type ResolvedCredential } from '../keychain.js';
import { isGoogleRegistry } from './hosts.js';

export const GOOGLE_SOURCE = 'Google keychain (application default credentials)';
const SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

export class GoogleKeychain implements Keychain {
  private auth: GoogleAuth | undefined;

  async resolve(registry: string): Promise<ResolvedCredential | undefined> {
    if (!isGoogleRegistry(registry)) return undefined;
    try {
      if (!this.auth) {
        // Loaded on the first Google registry only.
        const { GoogleAuth } = await import('google-auth-library');
        this.auth = new GoogleAuth({ scopes: [SCOPE] });
      }
      const client = await this.auth.getClient();
      const { token } = await client.getAccessToken();
      if (!token) throw new Error('application default credentials gave no access token');
      const expiry = client.credentials.expiry_date;
      return {
        credential: { kind: 'basic', username: 'oauth2accesstoken', password: token },
        source: GOOGLE_SOURCE,
        ...(typeof expiry === 'number' ? { expiresAt: expiry } : {}),
      };
    } catch (err) {
      const e = err as { message?: string; code?: unknown; status?: number; response?: { status?: number } };
      const message = (e?.message ?? String(err)).split('\n')[0] ?? '';
      // no Google identity where the controller runs: the next keychain (or anonymous) applies
      if (/could not load the default credentials/i.test(message)) {
        this.auth = undefined;
        return undefined;
      }
      const status = e?.response?.status ?? e?.status;
      const transient =
        (typeof status === 'number' && status >= 500) || (status === undefined && typeof e?.code === 'string');
      throw keychainError(GOOGLE_SOURCE, registry, message.slice(0, 300), transient);
    }
  }
}

/**
 * Bearer dispatch (spec S5.5, without the search-UI JWT part): the admin key for `/_miroir/*`, the
 * master key for the client API, and the node-issued credentials Miroir knows (API keys created
 * through it, tenant tokens signed with them), whose actions and index patterns Miroir enforces
 * itself with Meilisearch's auth errors.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { MeiliError } from '@miroir/protocol';
import { miroirError } from '../errors.js';

/** What an authenticated request may touch. */
export interface Access {
  allowsIndex(uid: string): boolean;
  /** The tenant-token filter to AND onto searches of `uid`, or null. */
  searchFilter(uid: string): unknown;
}

export const FULL_ACCESS: Access = Object.freeze({
  allowsIndex: () => true,
  searchFilter: () => null,
});

/** Resolves credentials that are not the master key (API keys, tenant tokens); null = unknown. */
export interface CredentialResolver {
  resolve(token: string, action: string, indexUid: string | null): Promise<Access | null>;
}

/**
 * The bearer token, '' for a bare `Bearer`, or undefined when there is no header or it uses
 * another scheme (Meilisearch answers both with `missing_authorization_header`).
 */
export function bearer(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (h === undefined) return undefined;
  const m = /^Bearer(?:\s+(.*))?$/i.exec(h.trim());
  return m ? (m[1] ?? '').trim() : undefined;
}

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const invalidKey = () => new MeiliError('invalid_api_key', 'The provided API key is invalid.');

export class Authenticator {
  readonly #masterKey: string;
  readonly #adminKey: string;
  readonly #resolver: CredentialResolver | undefined;

  constructor(opts: { masterKey: string; adminKey: string; resolver?: CredentialResolver }) {
    this.#masterKey = opts.masterKey;
    this.#adminKey = opts.adminKey;
    this.#resolver = opts.resolver;
  }

  get open(): boolean {
    return this.#masterKey === '';
  }

  /**
   * Client API. Without a master key everything is open except the key routes, as on a node in
   * development mode; with one, the bearer must be the master key or a credential the resolver knows.
   */
  async client(req: FastifyRequest, action: string, indexUid: string | null): Promise<Access> {
    if (this.open) {
      if (action.startsWith('keys.')) {
        throw new MeiliError(
          'missing_master_key',
          'Meilisearch is running without a master key. To access this API endpoint, you must have set a master key at launch.',
        );
      }
      return FULL_ACCESS;
    }
    const token = bearer(req);
    if (token === undefined) {
      throw new MeiliError(
        'missing_authorization_header',
        'The Authorization header is missing. It must use the bearer authorization method.',
      );
    }
    if (safeEqual(token, this.#masterKey)) return FULL_ACCESS;
    const access = this.#resolver ? await this.#resolver.resolve(token, action, indexUid) : null;
    if (access === null) throw invalidKey();
    return access;
  }

  /** `/_miroir/*`: the admin key (bearer or `X-Admin-Key`); open only when no key at all is set. */
  admin(req: FastifyRequest): void {
    const expected = this.#adminKey || this.#masterKey;
    if (expected === '') return;
    const header = req.headers['x-admin-key'];
    const token = typeof header === 'string' ? header : bearer(req);
    if (token === undefined || token === '' || !safeEqual(token, expected)) {
      throw miroirError('miroir_invalid_auth', 'The admin API requires the admin key (`Authorization: Bearer <key>` or `X-Admin-Key`).');
    }
  }
}

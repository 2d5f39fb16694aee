/**
 * The parameters of `POST|GET /indexes/{uid}/similar` (reference §5.5): parsed once here for the
 * engine (which answers them) and the orchestrator (which scatters them). Parameter codes follow
 * meilisearch `routes/indexes/similar.rs` (`invalid_similar_*`); messages follow deserr as the
 * search parameters do.
 *
 * @see https://www.meilisearch.com/docs/reference/api/similar/get-similar-documents-with-post
 */
import type { Hit } from './search-params.js';
import { MeiliError } from './errors.js';
import { invalidTypeError, unknownFieldError } from './settings-validate.js';

/** A parsed `/similar` request. */
export interface SimilarQuery {
  id: string;
  embedder: string;
  offset?: number;
  limit?: number;
  filter?: unknown;
  attributesToRetrieve?: string[];
  retrieveVectors?: boolean;
  showRankingScore?: boolean;
  showRankingScoreDetails?: boolean;
  /** Answered by the route (`performanceDetails`), not by the index. */
  showPerformanceDetails?: boolean;
  rankingScoreThreshold?: number;
}

const FIELDS = [
  'id',
  'embedder',
  'offset',
  'limit',
  'filter',
  'attributesToRetrieve',
  'retrieveVectors',
  'showRankingScore',
  'showRankingScoreDetails',
  'showPerformanceDetails',
  'rankingScoreThreshold',
] as const;

const ID_RE = /^[A-Za-z0-9_-]+$/;

function invalidId(): MeiliError {
  return new MeiliError(
    'invalid_similar_id',
    'Invalid value at `.id`: the value of `id` is invalid. A document identifier can be of type integer or string, only composed of alphanumeric characters (a-z A-Z 0-9), hyphens (-) and underscores (_), and can not be more than 511 bytes.',
  );
}

function documentId(v: unknown): string {
  if (typeof v === 'number' && Number.isInteger(v)) return String(v);
  if (typeof v === 'string' && ID_RE.test(v) && Buffer.byteLength(v) <= 511) return v;
  throw invalidId();
}

function thresholdError(): MeiliError {
  return new MeiliError(
    'invalid_similar_ranking_score_threshold',
    'Invalid value at `.rankingScoreThreshold`: the value of `rankingScoreThreshold` is invalid, expected a float between `0.0` and `1.0`.',
  );
}

/** Parse a `POST …/similar` body (fields checked in body order, first error wins). */
export function parseSimilarBody(body: unknown): SimilarQuery {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalidTypeError('bad_request', '', 'an object', body);
  }
  const out: Partial<SimilarQuery> = {};
  for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
    const path = `.${k}`;
    switch (k) {
      case 'id':
        out.id = documentId(v);
        break;
      case 'embedder':
        if (typeof v !== 'string') throw invalidTypeError('invalid_similar_embedder', path, 'a string', v);
        out.embedder = v;
        break;
      case 'offset':
      case 'limit':
        if (v === null) break;
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
          throw invalidTypeError(`invalid_similar_${k}`, path, 'a positive integer', v);
        }
        out[k] = v;
        break;
      case 'filter':
        if (v !== null) out.filter = v;
        break;
      case 'attributesToRetrieve':
        if (v === null) break;
        if (!Array.isArray(v)) throw invalidTypeError('invalid_similar_attributes_to_retrieve', path, 'an array', v);
        v.forEach((x, i) => {
          if (typeof x !== 'string') throw invalidTypeError('invalid_similar_attributes_to_retrieve', `${path}[${i}]`, 'a string', x);
        });
        out.attributesToRetrieve = v as string[];
        break;
      case 'retrieveVectors':
      case 'showRankingScore':
      case 'showRankingScoreDetails':
      case 'showPerformanceDetails': {
        const code = `invalid_similar_${k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}`;
        if (typeof v !== 'boolean') throw invalidTypeError(code, path, 'a boolean', v);
        out[k] = v;
        break;
      }
      case 'rankingScoreThreshold':
        if (v === null) break;
        if (typeof v !== 'number') throw invalidTypeError('invalid_similar_ranking_score_threshold', path, 'a number', v);
        if (v < 0 || v > 1) throw thresholdError();
        out.rankingScoreThreshold = v;
        break;
      default:
        throw unknownFieldError('bad_request', '', k, FIELDS);
    }
  }
  if (out.id === undefined) throw new MeiliError('bad_request', 'Missing field `id`');
  if (out.embedder === undefined) throw new MeiliError('bad_request', 'Missing field `embedder`');
  return out as SimilarQuery;
}

function intParam(raw: string, name: string): number {
  if (!/^\d+$/.test(raw)) {
    throw new MeiliError(`invalid_similar_${name}`, `Invalid value in parameter \`${name}\`: could not parse \`${raw}\` as a positive integer`);
  }
  return Number(raw);
}

function boolParam(raw: string, name: string, code: string): boolean {
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  throw new MeiliError(code, `Invalid value in parameter \`${name}\`: could not parse \`${raw}\` as a boolean, expected either \`true\` or \`false\``);
}

/** Parse `GET …/similar` query parameters (lists comma-separated, `filter` a string). */
export function parseSimilarParams(q: Record<string, string>): SimilarQuery {
  const out: Partial<SimilarQuery> = {};
  for (const [k, raw] of Object.entries(q)) {
    switch (k) {
      case 'id':
        out.id = documentId(/^-?\d+$/.test(raw) ? Number(raw) : raw);
        break;
      case 'embedder':
        out.embedder = raw;
        break;
      case 'offset':
      case 'limit':
        out[k] = intParam(raw, k);
        break;
      case 'filter':
        out.filter = raw;
        break;
      case 'attributesToRetrieve':
        out.attributesToRetrieve = raw.split(',').map((s) => s.trim());
        break;
      case 'retrieveVectors':
      case 'showRankingScore':
      case 'showRankingScoreDetails':
      case 'showPerformanceDetails':
        out[k] = boolParam(raw, k, `invalid_similar_${k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}`);
        break;
      case 'rankingScoreThreshold': {
        const f = Number(raw);
        if (raw.trim() === '' || Number.isNaN(f)) {
          throw new MeiliError('invalid_similar_ranking_score_threshold', `Invalid value in parameter \`rankingScoreThreshold\`: could not parse \`${raw}\` as a number`);
        }
        if (f < 0 || f > 1) throw thresholdError();
        out.rankingScoreThreshold = f;
        break;
      }
      default:
        throw new MeiliError('bad_request', `Unknown parameter \`${k}\`: expected one of ${FIELDS.map((f) => `\`${f}\``).join(', ')}`);
    }
  }
  if (out.id === undefined) throw new MeiliError('bad_request', 'Missing parameter `id`');
  if (out.embedder === undefined) throw new MeiliError('bad_request', 'Missing parameter `embedder`');
  return out as SimilarQuery;
}

/** A `/similar` response, keys in Meilisearch's order. */
export interface SimilarResponse {
  hits: Hit[];
  id: string;
  processingTimeMs: number;
  limit: number;
  offset: number;
  estimatedTotalHits: number;
}

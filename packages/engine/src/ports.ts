/**
 * The shapes the engine's HTTP layer needs from its collaborators: the search core
 * (`@miroir/search`), the task queue and the key store (`./tasks`, `./auth`). Routes and the
 * processor depend on these interfaces only; `index.ts` plugs in the implementations.
 */
import type { FastifyInstance } from 'fastify';
import type { SearchMatches, SimilarQuery, SimilarResponse } from '@miroir/search';
import type {
  ComputedFacets,
  FacetSearchQuery,
  TaskView,
  FacetSearchResponse,
  SearchQuery,
  SearchResponse,
  Settings,
} from '@miroir/protocol';

export type Document = Record<string, unknown>;

/** The in-memory search structures of one index. */
export interface SearchCore {
  setSettings(settings: Settings, all: Iterable<[number, Document]>): void;
  add(iid: number, doc: Document): void;
  remove(iid: number, doc: Document): void;
  clear(): void;
  /** Moves buffered additions into the search structures (reads do it on their own too). */
  flush(): void;
  search(q: SearchQuery, indexUid: string): SearchResponse;
  /** A search with the internal ids of the documents it matched and of its hits (federated search). */
  searchMatches(q: SearchQuery, indexUid: string): SearchMatches;
  /** The facet distribution and stats of `facets` over the documents `iids`, as a search gives them. */
  facetsOf(facets: readonly string[], iids: ArrayLike<number>): ComputedFacets;
  facetSearch(q: FacetSearchQuery, indexUid: string): FacetSearchResponse;
  /** Documents similar to the one of internal id `iid` (`undefined` when it does not exist). */
  similar(q: SimilarQuery, iid: number | undefined, indexUid: string): SimilarResponse;
  /** iids matching a filter, ascending. */
  filter(filter: unknown, errorCode: string, indexUid: string | null): number[];
  /** iids ordered by a documents-route `sort`. */
  sort(iids: number[], sort: string[], errorCode: string): number[];
}

export type SearchCoreFactory = (settings: Settings, opts: { getDocument(iid: number): Document | undefined }) => SearchCore;

/** A task as the queue hands it to the processor. */
export interface QueuedTask {
  uid: number;
  type: string;
  indexUid: string | null;
  details?: Record<string, unknown> | null;
}

/** The 202 summary of an enqueued task. */
export interface TaskSummary {
  taskUid: number;
  indexUid: string | null;
  status: string;
  type: string;
  enqueuedAt: string;
}

export interface EnqueueInput {
  type: string;
  indexUid: string | null;
  /** null: the task type has no details (a snapshot creation). */
  details: Record<string, unknown> | null;
  payload?: Buffer | string;
  customMetadata?: string;
  /** Every index the task touches when more than `indexUid` (a rename, a swap). */
  indexes?: string[];
}

export interface TaskQueuePort {
  enqueue(input: EnqueueInput): TaskSummary;
  payload(uid: number): Buffer | undefined;
  /** The task as `GET /tasks/{uid}` shows it, when `access` may see it. */
  view(uid: number, access: AuthContextPort): TaskView | undefined;
}

/** What an authorized request may do. */
export interface AuthContextPort {
  /** True when every index is allowed (a `*` key, the master key, or no master key). */
  readonly allIndexes: boolean;
  allowsIndex(uid: string): boolean;
  searchFilter(indexUid: string): unknown;
  /** Whether a write may create this index when it is missing (the key holds `indexes.create`). */
  allowIndexCreation(uid: string): boolean;
}

export interface AuthPort {
  authorize(authorization: string | undefined, action: string, indexUid: string | null): AuthContextPort;
}

/** Registers extra routes (tasks, keys) on the app. */
export type RouteInstaller = (app: FastifyInstance) => void;

/** Document payload handling (`@miroir/protocol` documents). */
export interface DocumentsCodec {
  parseDocumentsPayload(body: Buffer | string, contentType: string | undefined, opts: { csvDelimiter?: string }): Document[];
  inferPrimaryKey(doc: Document): string;
  documentId(doc: Document, primaryKey: string): string;
  /** A document id given alone (canonical string), or `invalid_document_id`. */
  validateDocumentIdValue(value: unknown): string;
}

/** Filter syntax checking (`@miroir/filter`): false for an empty filter, throws `MeiliError(code)`. */
export type FilterSyntaxCheck = (filter: unknown, code: string) => boolean;

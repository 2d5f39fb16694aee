/**
 * What an authorized request may do: the result of {@link authorize}.
 */

/** The permissions of the caller of one request. */
export interface AuthContext {
  /** True when every index is allowed (a `*` key, the master key, or no master key). */
  readonly allIndexes: boolean;
  /** Whether the key (and tenant token, if any) covers this index. */
  allowsIndex(uid: string): boolean;
  /**
   * The tenant token's search rule filter for this index (most specific pattern wins), to AND
   * onto the query's filter; null when there is none.
   */
  searchFilter(indexUid: string): unknown | null;
  /**
   * Whether a write may create this index when missing (Meilisearch's `allow_index_creation`:
   * the key holds `indexes.create` and covers the index).
   */
  allowIndexCreation(uid: string): boolean;
}

/** Everything allowed, no search rules. */
export const OPEN_CONTEXT: AuthContext = {
  allIndexes: true,
  allowsIndex: () => true,
  searchFilter: () => null,
  allowIndexCreation: () => true,
};

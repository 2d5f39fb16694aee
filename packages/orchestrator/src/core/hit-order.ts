/**
 * The order one Meilisearch node gives its hits, reconstructed from `_rankingScoreDetails` so that
 * hits from several nodes can be merged as if one node had ranked them all (spec S2.6 step 6,
 * meilisearch-api §7.3, §12 items 1 and 7).
 *
 * Why details and not `_rankingScore`: with a `sort` (or an `attr:asc` custom rule) between
 * relevancy rules, the bucket order is lexicographic over the rules, and the global score folds
 * the sort away. Comparing each rule's entry in `order` reproduces the bucket order exactly.
 */
import { hybridWeights, type Hit } from '@miroir/protocol';

type Details = Record<string, Record<string, unknown>>;

const RuleKind = { Score: 0, Sort: 1, Geo: 2, Vector: 3, Opaque: 4 } as const;
type RuleKind = (typeof RuleKind)[keyof typeof RuleKind];

interface Rule {
  readonly name: string;
  readonly kind: RuleKind;
  /** +1 ascending, -1 descending (sort and geo rules). */
  readonly dir: 1 | -1;
}

function ruleOf(name: string): Rule {
  if (name === 'vectorSort') return { name, kind: RuleKind.Vector, dir: -1 };
  // `skipped` (search cut-off) and redacted sort rules carry nothing comparable.
  if (name === 'skipped' || name.startsWith('<hidden-rule')) return { name, kind: RuleKind.Opaque, dir: 1 };
  const asc = name.endsWith(':asc');
  if (asc || name.endsWith(':desc')) {
    const kind = name.startsWith('_geoPoint(') ? RuleKind.Geo : RuleKind.Sort;
    return { name, kind, dir: asc ? 1 : -1 };
  }
  return { name, kind: RuleKind.Score, dir: -1 };
}

/**
 * The rule names of a details object, one per `order` position, ascending.
 *
 * Details are a map keyed by rule name, so when the query's `sort` names the same `field:dir` as a
 * custom ranking rule, the later rule's entry overwrites the earlier one (keeping its key
 * position) and the earlier `order` goes missing — e.g. rules `[sort, words, …, price:asc]` with
 * `sort: ["price:asc"]` give `price:asc` at order 7 and no order 0. Both compare the same field
 * value, so a missing order is filled with the sort entry that took its place: the first unused
 * sort-like entry recorded at a later order, taken in the query's `sort` sequence when known.
 */
export function orderedRuleNames(details: Readonly<Record<string, Readonly<Record<string, unknown>>>>, sortHint?: readonly string[]): string[] {
  const names = Object.keys(details);
  names.sort((a, b) => orderOf(details[a]) - orderOf(details[b]));
  const last = names.length === 0 ? -1 : orderOf(details[names[names.length - 1]]);
  if (last < names.length) return names;
  const byOrder = new Map<number, string>();
  for (const n of names) byOrder.set(orderOf(details[n]), n);
  const hintIndex = (n: string): number => {
    if (sortHint === undefined) return 0;
    const squeeze = (x: string): string => x.replace(/\s+/g, '');
    const i = sortHint.findIndex((h) => h === n || squeeze(h) === squeeze(n));
    return i < 0 ? sortHint.length : i;
  };
  const candidates = names
    .filter((n) => isSortName(n))
    .sort((a, b) => hintIndex(a) - hintIndex(b) || orderOf(details[a]) - orderOf(details[b]));
  const used = new Set<string>();
  const out: string[] = [];
  for (let k = 0; k <= last; k++) {
    const present = byOrder.get(k);
    if (present !== undefined) {
      out.push(present);
      continue;
    }
    const fill = candidates.find((c) => !used.has(c) && orderOf(details[c]) > k);
    if (fill !== undefined) {
      used.add(fill);
      out.push(fill);
    }
  }
  return out;
}

function isSortName(name: string): boolean {
  return name.endsWith(':asc') || name.endsWith(':desc');
}

/** The rules of a details object, by ascending `order` (see {@link orderedRuleNames}). */
function rulesOf(details: Details, sortHint?: readonly string[]): Rule[] {
  return orderedRuleNames(details, sortHint).map(ruleOf);
}

function orderOf(entry: Record<string, unknown> | undefined): number {
  const o = entry?.order;
  return typeof o === 'number' ? o : Number.MAX_SAFE_INTEGER;
}

/**
 * Meilisearch's sort-value order: numbers before strings in both directions, then missing/null
 * last; only numbers and strings are compared in the requested direction; strings by code point.
 * Same rule as milli's `compare_sort_values` (crates/milli/src/score_details.rs). A string `value`
 * in the details is the normalized facet key the node sorted by (milli's sort rule decodes it from
 * the facet database and chains numbers before strings), so code-point order on it is the node's
 * own order.
 */
export function compareSortValues(a: unknown, b: unknown, dir: 1 | -1): number {
  const ra = valueRank(a);
  const rb = valueRank(b);
  if (ra !== rb) return ra - rb;
  if (ra === 0) return ((a as number) - (b as number)) * dir;
  if (ra === 1) return compareCodePoints(String(a), String(b)) * dir;
  return 0;
}

/**
 * Orders strings by Unicode code point (the byte order of their UTF-8 form, as Rust compares
 * `String`s). Plain `<` compares UTF-16 code units, which misorders astral characters against
 * U+E000–U+FFFF; the fix-up moves surrogates above that range only where the strings differ.
 */
export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x < y ? -1 : 1;
  }
  return a.length - b.length < 0 ? -1 : a.length === b.length ? 0 : 1;
}

function valueRank(v: unknown): number {
  if (typeof v === 'number') return Number.isNaN(v) ? 2 : 0;
  if (typeof v === 'string') return 1;
  // Booleans are indexed as the strings `true` / `false`.
  if (typeof v === 'boolean') return 1;
  return 2;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' ? v : undefined;
}

/** Compares one rule's entries; negative when `a` ranks first. Missing entries rank last. */
function compareEntry(rule: Rule, ea: Record<string, unknown> | undefined, eb: Record<string, unknown> | undefined): number {
  if (ea === undefined || eb === undefined) return ea === eb ? 0 : ea === undefined ? 1 : -1;
  switch (rule.kind) {
    case RuleKind.Score: {
      const sa = num(ea.score) ?? -1;
      const sb = num(eb.score) ?? -1;
      return sb - sa;
    }
    case RuleKind.Vector: {
      // A missing similarity counts as 0, as in milli's weighted score values.
      const sa = num(ea.similarity) ?? 0;
      const sb = num(eb.similarity) ?? 0;
      return sb - sa;
    }
    case RuleKind.Sort:
      return compareSortValues(
        typeof ea.value === 'boolean' ? String(ea.value) : ea.value,
        typeof eb.value === 'boolean' ? String(eb.value) : eb.value,
        rule.dir,
      );
    case RuleKind.Geo:
      return compareSortValues(num(ea.distance), num(eb.distance), rule.dir);
    default:
      return 0;
  }
}

/** Primary-key tie-break: numbers numerically, otherwise by string (deterministic across pods). */
export function comparePk(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (a === undefined || a === null) return b === undefined || b === null ? 0 : 1;
  if (b === undefined || b === null) return -1;
  const sa = String(a);
  const sb = String(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

/** A hit with its comparison values extracted (see {@link HitComparator.key}). */
export interface HitKey {
  readonly hit: Hit;
  /** One value per rule of the shared rule list; null when the hit's details have another shape. */
  readonly values: unknown[] | null;
  /** The hit came from the semantic side of a hybrid search. */
  readonly sem: boolean;
  readonly score: number;
}

const NO_VALUES: unknown[] = [];

/** The comparable value of one details entry (see {@link compareEntry}). */
function extract(rule: Rule, e: Record<string, unknown>): unknown {
  switch (rule.kind) {
    case RuleKind.Score:
      return num(e.score) ?? -1;
    case RuleKind.Vector:
      return num(e.similarity) ?? 0;
    case RuleKind.Sort:
      return typeof e.value === 'boolean' ? String(e.value) : e.value;
    case RuleKind.Geo:
      return num(e.distance);
    default:
      return 0;
  }
}

/**
 * One comparable value of a hybrid hit, as milli's `ScoreDetails::score_values` gives them: a run
 * of consecutive relevancy rules folded into one score, a vector similarity (a score too), a sort
 * value or a geo distance.
 */
export type ScoreValue =
  | { readonly kind: 'score'; readonly score: number }
  | { readonly kind: 'sort'; readonly dir: 1 | -1; readonly value: unknown }
  | { readonly kind: 'geo'; readonly dir: 1 | -1; readonly distance: number | undefined };

/**
 * A hit's score values from its `_rankingScoreDetails` (milli `score_values`), or null when they
 * cannot be rebuilt: a run of relevancy rules is folded from each rule's rank and maximum, which
 * the details do not carry; only a single run is known, as the hit's `_rankingScore` (the fold of
 * every rank, sort values aside). A `skipped` entry (search cut-off) is a rank of 0 out of 1.
 * Similarities are `f32` in Meilisearch (shown as the shortest `f32` text): `Math.fround` gives the
 * value the node compared.
 */
export function scoreValues(details: Readonly<Record<string, Readonly<Record<string, unknown>>>>, rankingScore: number | undefined, sortHint?: readonly string[]): ScoreValue[] | null {
  const out: ScoreValue[] = [];
  let runs = 0;
  let inRun = false;
  for (const name of orderedRuleNames(details, sortHint)) {
    const rule = ruleOf(name);
    const e = details[name];
    if (rule.kind === RuleKind.Score || name === 'skipped') {
      if (!inRun) {
        runs++;
        out.push({ kind: 'score', score: rankingScore ?? 0 });
      }
      inRun = true;
      continue;
    }
    inRun = false;
    if (rule.kind === RuleKind.Vector) out.push({ kind: 'score', score: Math.fround(num(e.similarity) ?? 0) });
    else if (rule.kind === RuleKind.Sort) out.push({ kind: 'sort', dir: rule.dir, value: typeof e.value === 'boolean' ? String(e.value) : e.value });
    else if (rule.kind === RuleKind.Geo) out.push({ kind: 'geo', dir: rule.dir, distance: num(e.distance) });
  }
  return runs > 1 ? null : out;
}

/**
 * milli `hybrid.rs` `compare_scores` between the values of a semantic hit and a keyword hit:
 * negative when `a` ranks first. Scores are weighted by their side's {@link hybridWeights} and
 * equal within `f64::EPSILON`; sort values compare in their direction; a score against a sort
 * value wins unless it is 0; the shorter list ranks last. 0 is a tie (Meilisearch then takes the
 * semantic hit first).
 */
export function compareAcrossSides(a: readonly ScoreValue[], b: readonly ScoreValue[], aSemantic: boolean, ratio: number): number {
  const [ws, wk] = hybridWeights(ratio);
  const ra = aSemantic ? ws : wk;
  const rb = aSemantic ? wk : ws;
  for (let i = 0; ; i++) {
    const x = a[i];
    const y = b[i];
    if (x === undefined) return y === undefined ? 0 : 1;
    if (y === undefined) return -1;
    if (x.kind === 'score' && y.kind === 'score') {
      const l = x.score * ra;
      const r = y.score * rb;
      if (Math.abs(l - r) <= Number.EPSILON) continue;
      return l > r ? -1 : 1;
    }
    if (x.kind === 'sort' && y.kind === 'sort') {
      const c = compareSortValues(x.value, y.value, x.dir);
      if (c !== 0) return c;
      continue;
    }
    if (x.kind === 'geo' && y.kind === 'geo') {
      const c = compareSortValues(x.distance, y.distance, x.dir);
      if (c !== 0) return c;
      continue;
    }
    if (x.kind === 'score') return x.score === 0 ? 1 : -1;
    if (y.kind === 'score') return y.score === 0 ? -1 : 1;
    return 0;
  }
}

/** Options of {@link HitComparator}. */
export interface HitOrderOptions {
  readonly primaryKey: string;
  /**
   * Semantic ratio of a hybrid query. When a keyword hit meets a semantic hit, Meilisearch
   * interleaves them by their score values weighted by `1 − ratio` and `ratio` (see
   * {@link compareAcrossSides}).
   */
  readonly semanticRatio?: number;
  /** The query's `sort`, to place sort entries whose `order` was overwritten (see {@link orderedRuleNames}). */
  readonly sort?: readonly string[];
}

/**
 * Compares hits in single-node order. The rule list is taken from the first hit compared and
 * reused while hits share it (they do: same query, same settings), so a comparison is a handful of
 * property reads.
 */
export class HitComparator {
  readonly #pk: string;
  readonly #ratio: number | undefined;
  readonly #sort: readonly string[] | undefined;
  #rules: Rule[] | undefined;
  /** The rule list is the details' own key sequence (no filled-in order), so keys match by position. */
  #positional = true;
  #distinctNames = 0;
  /** The rules are relevancy rules only: then `_rankingScore` order is the bucket order. */
  #allRank = false;

  constructor(opts: HitOrderOptions) {
    this.#pk = opts.primaryKey;
    this.#ratio = opts.semanticRatio;
    this.#sort = opts.sort;
  }

  /** Negative when `a` ranks before `b`. Total: ties end at the primary key. */
  compare = (a: Hit, b: Hit): number => {
    const da = a._rankingScoreDetails as Details | undefined;
    const db = b._rankingScoreDetails as Details | undefined;
    if (da !== undefined && db !== undefined) {
      const semA = da.vectorSort !== undefined;
      const semB = db.vectorSort !== undefined;
      if (semA !== semB && this.#ratio !== undefined) return this.#crossSide(a, da, semA, b, db);
      else {
        const c = this.#walk(da, db);
        if (c !== 0) return c;
      }
    }
    const sa = a._rankingScore ?? -1;
    const sb = b._rankingScore ?? -1;
    if (sa !== sb) return sb - sa;
    return comparePk(a[this.#pk], b[this.#pk]);
  };

  /**
   * Extracts a hit's comparison values once, so that a merge compares small arrays instead of
   * re-reading the details objects on every comparison.
   */
  key(hit: Hit): HitKey {
    const d = hit._rankingScoreDetails as Details | undefined;
    let values: unknown[] | null = null;
    let sem = false;
    if (d !== undefined) {
      sem = d.vectorSort !== undefined;
      const rules = this.#rules ?? this.#setRules(d);
      // Without sort, geo or vector rules the global score is the mixed-radix fold of the rule
      // ranks, so comparing `_rankingScore` alone is exact (meilisearch-api §7.3): skip the details.
      if (this.#allRank && !sem) return { hit, values: NO_VALUES, sem, score: hit._rankingScore ?? -1 };
      values = new Array<unknown>(rules.length);
      if (this.#positional) {
        // Nodes serialize details in rule order, so one pass over the keys matches them to the
        // shared rule list by position; any other shape falls back to the generic comparison.
        let i = 0;
        for (const k in d) {
          const r = rules[i];
          if (r === undefined || r.name !== k) {
            values = null;
            break;
          }
          values[i++] = extract(r, d[k]);
        }
        if (i !== rules.length) values = null;
      } else {
        let count = 0;
        for (const _ in d) count++;
        if (count !== this.#distinctNames) values = null;
        else {
          for (let i = 0; i < rules.length; i++) {
            const e = d[rules[i].name];
            if (e === undefined) {
              values = null;
              break;
            }
            values[i] = extract(rules[i], e);
          }
        }
      }
    }
    return { hit, values, sem, score: hit._rankingScore ?? -1 };
  }

  /** Same order as {@link compare}, on extracted keys. */
  compareKeys(a: HitKey, b: HitKey): number {
    const va = a.values;
    const vb = b.values;
    if (va === null || vb === null || (a.sem !== b.sem && this.#ratio !== undefined)) return this.compare(a.hit, b.hit);
    const rules = this.#rules as Rule[];
    for (let i = 0; i < va.length; i++) {
      const r = rules[i];
      const x = va[i];
      const y = vb[i];
      if (x === y) continue;
      let c = 0;
      if (r.kind === RuleKind.Score || r.kind === RuleKind.Vector) c = (y as number) - (x as number);
      else if (r.kind === RuleKind.Sort || r.kind === RuleKind.Geo) c = compareSortValues(x, y, r.dir);
      if (c !== 0) return c;
    }
    if (a.score !== b.score) return b.score - a.score;
    return comparePk(a.hit[this.#pk], b.hit[this.#pk]);
  }

  /** A keyword hit against a semantic hit of a hybrid search (never 0: ties go to the semantic hit). */
  #crossSide(a: Hit, da: Details, semA: boolean, b: Hit, db: Details): number {
    const va = scoreValues(da, a._rankingScore, this.#sort);
    const vb = scoreValues(db, b._rankingScore, this.#sort);
    if (va === null || vb === null) {
      // A keyword hit whose relevancy rules a sort rule splits: its runs' scores are not in the
      // details (they hold each rule's score, not its rank and maximum), so the global scores decide.
      const [ws, wk] = hybridWeights(this.#ratio as number);
      const wa = (a._rankingScore ?? 0) * (semA ? ws : wk);
      const wb = (b._rankingScore ?? 0) * (semA ? wk : ws);
      if (Math.abs(wa - wb) > Number.EPSILON) return wb - wa;
      return semA ? -1 : 1;
    }
    const c = compareAcrossSides(va, vb, semA, this.#ratio as number);
    return c !== 0 ? c : semA ? -1 : 1;
  }

  #setRules(d: Details): Rule[] {
    const rules = rulesOf(d, this.#sort);
    this.#rules = rules;
    this.#distinctNames = new Set(rules.map((r) => r.name)).size;
    let i = 0;
    this.#positional = true;
    for (const k in d) if (rules[i++]?.name !== k) this.#positional = false;
    if (i !== rules.length) this.#positional = false;
    this.#allRank = rules.every((r) => r.kind === RuleKind.Score);
    return rules;
  }

  #walk(da: Details, db: Details): number {
    const rules = this.#rules ?? this.#setRules(da);
    for (let i = 0; i < rules.length; i++) {
      const r = rules[i];
      const ea = da[r.name];
      const eb = db[r.name];
      if (ea === undefined || eb === undefined) return this.#slowWalk(da, db);
      const c = compareEntry(r, ea, eb);
      if (c !== 0) return c;
    }
    return 0;
  }

  /** Hits whose details differ in shape (cut-off `skipped`, mixed kinds): walk each by `order`. */
  #slowWalk(da: Details, db: Details): number {
    const ra = rulesOf(da, this.#sort);
    const rb = rulesOf(db, this.#sort);
    const n = Math.min(ra.length, rb.length);
    for (let i = 0; i < n; i++) {
      const x = ra[i];
      const y = rb[i];
      if (x.name === y.name) {
        const c = compareEntry(x, da[x.name], db[y.name]);
        if (c !== 0) return c;
        continue;
      }
      // A rule cut off by `searchCutoffMs` is rank 0 of 1: below any rule that ran.
      if (x.name === 'skipped') return 1;
      if (y.name === 'skipped') return -1;
      // Otherwise incomparable here: `_rankingScore` decides.
      return 0;
    }
    return 0;
  }
}

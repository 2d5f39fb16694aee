/**
 * `GET /stats` and `GET /indexes/{uid}/stats` query parameters: `showInternalDatabaseSizes` and
 * `sizeFormat` (`raw` bytes by default, or `human` strings such as `"9.77 KiB"`).
 *
 * @see https://www.meilisearch.com/docs/reference/api/stats
 */
import { MeiliError } from './errors.js';
import { didYouMean } from './settings-validate.js';

export const SIZE_FORMATS = ['human', 'raw'] as const;
export type SizeFormat = (typeof SIZE_FORMATS)[number];

export interface StatsParams {
  showInternalDatabaseSizes: boolean;
  sizeFormat: SizeFormat;
}

/** Parameters `GET /stats` and `GET /indexes/{uid}/stats` accept, in Meilisearch's order. */
export const STATS_PARAMS = ['showInternalDatabaseSizes', 'sizeFormat'] as const;

/**
 * Reads the stats parameters (last value of a repeated one); errors as Meilisearch's
 * `GetIndexStatsParams` (`invalid_stats_show_internal_database_sizes`, `invalid_stats_size_format`,
 * `bad_request` for an unknown parameter).
 */
export function parseStatsParams(query: Readonly<Record<string, string | string[] | undefined>>): StatsParams {
  const last = (k: string): string | undefined => {
    const v = query[k];
    return Array.isArray(v) ? v[v.length - 1] : v;
  };
  const ticks = (xs: readonly string[]) => xs.map((x) => `\`${x}\``).join(', ');
  for (const k of Object.keys(query)) {
    if (!(STATS_PARAMS as readonly string[]).includes(k)) {
      throw new MeiliError('bad_request', `Unknown parameter \`${k}\`: ${didYouMean(k, STATS_PARAMS)}expected one of ${ticks(STATS_PARAMS)}`);
    }
  }
  const show = last('showInternalDatabaseSizes');
  if (show !== undefined && show !== 'true' && show !== 'false') {
    throw new MeiliError(
      'invalid_stats_show_internal_database_sizes',
      `Invalid value in parameter \`showInternalDatabaseSizes\`: could not parse \`${show}\` as a boolean, expected either \`true\` or \`false\``,
    );
  }
  const format = last('sizeFormat');
  if (format !== undefined && !(SIZE_FORMATS as readonly string[]).includes(format)) {
    throw new MeiliError(
      'invalid_stats_size_format',
      `Unknown value \`${format}\` for parameter \`sizeFormat\`: ${didYouMean(format, SIZE_FORMATS)}expected one of ${ticks(SIZE_FORMATS)}`,
    );
  }
  return { showInternalDatabaseSizes: show === 'true', sizeFormat: (format as SizeFormat | undefined) ?? 'raw' };
}

const BINARY_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'] as const;

/**
 * A byte count as Meilisearch shows it: the number itself (`raw`), or (`human`) byte_unit's
 * `format!("{:#.2}", Byte::from_u64(n).get_appropriate_unit(Binary))`: the largest binary unit the
 * count reaches, the value rounded to two decimals without trailing zeros, a space, the unit.
 */
export function formatSize(bytes: number, format: SizeFormat): number | string {
  if (format === 'raw') return bytes;
  let unit = 0;
  while (unit < BINARY_UNITS.length - 1 && bytes >= 1024 ** (unit + 1)) unit++;
  const value = unit === 0 ? bytes : Math.round((bytes / 1024 ** unit) * 100) / 100;
  return `${value} ${BINARY_UNITS[unit]}`;
}

/**
 * An embedder as `GET /indexes/{uid}/settings` shows it: Meilisearch does not echo the submitted
 * object but the configuration it derived from it (milli `From<EmbeddingConfig> for
 * EmbeddingSettings`): defaults filled per source, fields that do not apply dropped, keys in the
 * order of milli's `EmbeddingSettings`.
 *
 * @see https://www.meilisearch.com/docs/reference/api/settings/get-embedders
 */
import type { Embedder } from './settings.js';

/** milli `default_template_text()`: the document template when none is given. */
export const DEFAULT_DOCUMENT_TEMPLATE =
  '{% for field in fields %}{% if field.is_searchable and field.value != nil %}{{ field.name }}: {{ field.value }}\n{% endif %}{% endfor %}';
/** milli `default_max_bytes()`. */
export const DEFAULT_DOCUMENT_TEMPLATE_MAX_BYTES = 400;

const HF_DEFAULT_MODEL = 'BAAI/bge-base-en-v1.5';
const HF_DEFAULT_REVISION = '617ca489d9e86b49b8167676d8220688b99db36e';
const OPENAI_MODELS = ['text-embedding-ada-002', 'text-embedding-3-small', 'text-embedding-3-large'];
const OPENAI_DEFAULT_MODEL = 'text-embedding-3-small';
const OLLAMA_DEFAULT_MODEL = 'nomic-embed-text';

/** Keys in milli's `EmbeddingSettings` field order. */
const ORDER = [
  'source',
  'model',
  'revision',
  'pooling',
  'apiKey',
  'dimensions',
  'binaryQuantized',
  'documentTemplate',
  'documentTemplateMaxBytes',
  'url',
  'indexingFragments',
  'searchFragments',
  'request',
  'response',
  'headers',
  'searchEmbedder',
  'indexingEmbedder',
  'distribution',
] as const;

type Fields = Record<string, unknown>;

const given = (e: Fields, k: string): unknown => (e[k] === null ? undefined : e[k]);

function ordered(v: Fields): Embedder {
  const out: Fields = {};
  for (const k of ORDER) if (v[k] !== undefined) out[k] = v[k];
  return out as Embedder;
}

const nonEmpty = (m: unknown): boolean => m !== null && typeof m === 'object' && Object.keys(m).length > 0;

/**
 * One (sub-)embedder's options as milli derives them; `prompt` is the document template and its
 * byte limit, or null where the source takes none (a composite's search embedder).
 */
function options(e: Fields, prompt: { template: string; maxBytes: number } | null, distribution: unknown): Fields {
  const source = e.source as string;
  const tpl = prompt === null ? {} : { documentTemplate: prompt.template, documentTemplateMaxBytes: prompt.maxBytes };
  switch (source) {
    case 'huggingFace': {
      const model = given(e, 'model');
      // Setting a model resets the revision: the default one belongs to the default model only.
      const revision = given(e, 'revision') ?? (model === undefined ? HF_DEFAULT_REVISION : undefined);
      return { source, model: model ?? HF_DEFAULT_MODEL, revision, pooling: given(e, 'pooling') ?? 'useModel', ...tpl, distribution };
    }
    case 'openAi': {
      const model = given(e, 'model');
      return {
        source,
        model: typeof model === 'string' && OPENAI_MODELS.includes(model) ? model : OPENAI_DEFAULT_MODEL,
        apiKey: given(e, 'apiKey'),
        dimensions: given(e, 'dimensions'),
        ...tpl,
        url: given(e, 'url'),
        distribution,
      };
    }
    case 'ollama':
      return {
        source,
        model: given(e, 'model') ?? OLLAMA_DEFAULT_MODEL,
        apiKey: given(e, 'apiKey'),
        dimensions: given(e, 'dimensions'),
        ...tpl,
        url: given(e, 'url'),
        distribution,
      };
    case 'userProvided':
      return { source, dimensions: given(e, 'dimensions'), distribution };
    case 'rest': {
      const fragments = nonEmpty(given(e, 'indexingFragments')) || nonEmpty(given(e, 'searchFragments'));
      const keep = (k: string): unknown => (nonEmpty(given(e, k)) ? given(e, k) : undefined);
      return {
        source,
        apiKey: given(e, 'apiKey'),
        dimensions: given(e, 'dimensions'),
        ...(fragments ? {} : tpl),
        url: given(e, 'url'),
        indexingFragments: keep('indexingFragments'),
        searchFragments: keep('searchFragments'),
        request: given(e, 'request'),
        response: given(e, 'response'),
        headers: given(e, 'headers') ?? {},
        distribution,
      };
    }
    default:
      return { ...e };
  }
}

/** The embedder as Meilisearch shows it in settings (secrets not hidden here). */
export function embedderView(embedder: Embedder): Embedder {
  const e = embedder as Fields;
  const sub = (k: string): Fields => (e[k] !== null && typeof e[k] === 'object' ? (e[k] as Fields) : {});
  const template = given(e, 'documentTemplate') ?? given(sub('indexingEmbedder'), 'documentTemplate');
  const maxBytes =
    template === undefined
      ? undefined
      : given(e, 'documentTemplate') !== undefined
        ? given(e, 'documentTemplateMaxBytes')
        : given(sub('indexingEmbedder'), 'documentTemplateMaxBytes');
  const prompt = {
    template: (template as string | undefined) ?? DEFAULT_DOCUMENT_TEMPLATE,
    maxBytes: typeof maxBytes === 'number' && maxBytes > 0 ? maxBytes : DEFAULT_DOCUMENT_TEMPLATE_MAX_BYTES,
  };
  const distribution = given(e, 'distribution');
  const binaryQuantized = given(e, 'binaryQuantized');
  if (e.source === 'composite') {
    return ordered({
      source: 'composite',
      binaryQuantized,
      distribution,
      searchEmbedder: ordered(options(sub('searchEmbedder'), null, undefined)),
      indexingEmbedder: ordered(options(sub('indexingEmbedder'), prompt, undefined)),
    });
  }
  return ordered({ ...options(e, prompt, distribution), binaryQuantized });
}

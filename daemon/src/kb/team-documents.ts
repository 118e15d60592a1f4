/**
 * Team documents: in a team project, a document added to the knowledge base is kept as a file in Supabase
 * Storage (bucket `kb-documents`, object `<team_id>/<project_id>/<file>`) and indexed into the team's
 * knowledge base, so every member finds it and can open the file itself. Everything goes through the
 * signed-in user's client: the bucket's policies (members read, members and above write, viewers read only)
 * decide, as RLS does for the index. Embedded and Postgres stores keep documents in the index only.
 */
import type { RuntimeConfig } from '../config.js';
import type { DocumentStorage, Store } from '../store/types.js';
import type { ProjectRef } from '../workspace/project.js';
import { addSource, KbInputError, prepareDocumentFile, readDocumentFile, type AddedSource, type DocumentFormat } from './documents.js';

/** The kb-documents bucket's `file_size_limit` (10 MiB); checked here first so nothing is sent. */
export const TEAM_DOCUMENT_MAX_BYTES = 10 * 1024 * 1024;

/** The bucket name, as the protocol reports where a document is kept. */
export const TEAM_DOCUMENTS_BUCKET = 'kb-documents';

/**
 * The file name as an object key: Storage accepts letters, digits and a few signs (storage-api's
 * `isValidKey`), so anything else becomes `_`. The index uses the same name (`doc:<name>`), so a search hit
 * leads back to its object.
 */
export function storageFileName(name: string): string {
  const safe = name.normalize('NFKD').replace(/[^\w!\-.*'() &$@=;:+,]/g, '_').replace(/^\.+/, '_').slice(0, 200);
  return safe || 'document';
}

/** Where a team project's document lives in the bucket. */
export function objectName(project: ProjectRef, fileName: string): string {
  return `${project.teamId}/${project.id}/${fileName}`;
}

/** The bucket and project a team document can go to, or null when this store or project keeps documents locally. */
export function teamDocuments(store: Store, project: ProjectRef): DocumentStorage | null {
  if (!project.teamId) return null;
  return store.documents?.() ?? null;
}

export interface AddedTeamDocument extends AddedSource {
  storagePath: string;
}

/**
 * Checks the file (size, type by content, extractable text) before anything is sent, uploads it, then
 * indexes it; if indexing fails the upload is taken back, so a refusal changes nothing.
 */
export async function addTeamDocument(
  store: Store,
  docs: DocumentStorage,
  config: RuntimeConfig,
  project: ProjectRef,
  params: { path: string; title?: string; format?: DocumentFormat },
  signal?: AbortSignal,
): Promise<AddedTeamDocument> {
  const file = await readDocumentFile(params.path, TEAM_DOCUMENT_MAX_BYTES, { strict: true, ...(params.format ? { declared: params.format } : {}) });
  const fileName = storageFileName(file.name);
  const source = await prepareDocumentFile(file, `doc:${fileName}`, params.title ?? file.name);
  const name = objectName(project, fileName);
  await docs.upload(name, file.bytes, file.contentType, signal ? { signal } : {});
  try {
    const added = await addSource(store, config, project.id, source, signal);
    return { ...added, storagePath: `${TEAM_DOCUMENTS_BUCKET}/${name}` };
  } catch (err) {
    await docs.remove([name]).catch(() => undefined);
    throw err;
  }
}

/** A document's object name from its index uri (`doc:<file>`), or null for other sources. */
export function objectForUri(project: ProjectRef, uri: string): string | null {
  if (!uri.startsWith('doc:')) return null;
  const fileName = uri.slice('doc:'.length);
  if (!fileName || fileName !== storageFileName(fileName)) return null;
  return objectName(project, fileName);
}

export interface OpenedDocument {
  name: string;
  contentType: string;
  format: DocumentFormat;
  bytes: Buffer;
  storagePath: string;
}

const FORMAT_BY_TYPE: Record<string, DocumentFormat> = {
  'text/markdown': 'markdown',
  'text/plain': 'text',
  'text/html': 'html',
  'application/pdf': 'pdf',
};

/** Downloads a team document for reading; NotFound when it has no stored file the user may read. */
export async function openTeamDocument(docs: DocumentStorage, project: ProjectRef, uri: string, signal?: AbortSignal): Promise<OpenedDocument> {
  const name = objectForUri(project, uri);
  if (!name) throw new KbInputError('NotFound', `${uri} is not a document with a stored file`);
  const file = await docs.download(name, signal ? { signal } : {});
  const bare = file.contentType.split(';')[0]!.trim().toLowerCase();
  return {
    name: uri.slice('doc:'.length),
    contentType: bare,
    format: FORMAT_BY_TYPE[bare] ?? 'text',
    bytes: file.bytes,
    storagePath: `${TEAM_DOCUMENTS_BUCKET}/${name}`,
  };
}

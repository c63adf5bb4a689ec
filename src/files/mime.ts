// The MIME type a file is served with: the uploader's, when it names one, else the file name's
// extension's. Clients often send application/octet-stream for everything.
import { extname } from 'node:path';

const BY_EXTENSION: Record<string, string> = {
  '.txt': 'text/plain', '.md': 'text/markdown', '.markdown': 'text/markdown', '.html': 'text/html', '.htm': 'text/html',
  '.json': 'application/json', '.jsonl': 'application/jsonl', '.csv': 'text/csv', '.pdf': 'application/pdf',
  '.docx': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  '.pptx': 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  '.xml': 'application/xml', '.yaml': 'application/yaml', '.yml': 'application/yaml',
  '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.gif': 'image/gif', '.webp': 'image/webp',
  '.py': 'text/x-python', '.js': 'text/javascript', '.ts': 'application/typescript', '.c': 'text/x-c', '.cpp': 'text/x-c++',
  '.java': 'text/x-java', '.go': 'text/x-golang', '.rb': 'text/x-ruby', '.sh': 'application/x-sh', '.css': 'text/css',
  '.tex': 'text/x-tex', '.php': 'text/x-php', '.cs': 'text/x-csharp', '.zip': 'application/zip',
};

const GENERIC = new Set(['', 'application/octet-stream', 'binary/octet-stream']);
const MIME = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/i;

export function mimeTypeOf(filename: string, declared: string | undefined): string {
  const d = (declared ?? '').split(';')[0]!.trim().toLowerCase();
  if (!GENERIC.has(d) && MIME.test(d)) return d;
  return BY_EXTENSION[extname(filename).toLowerCase()] ?? 'application/octet-stream';
}

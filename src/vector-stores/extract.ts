// Text of a file for search: by its type (extension, then MIME type). Plain text kinds are decoded as
// UTF-8 (invalid UTF-8 is an unreadable file); HTML through html-to-text, PDF through unpdf (pdf.js),
// DOCX through mammoth. What is not text is refused at attach time (isSupported); what claims a type
// but cannot be read fails that file at ingestion, with the reason.
import { extname } from 'node:path';
// The parsers are loaded on first use: pdf.js alone is megabytes of code that a server which never
// ingests a file (or has not yet) should not pay for at start.

export type Kind = 'text' | 'html' | 'pdf' | 'docx';

export class ExtractError extends Error {
  constructor(readonly code: 'unsupported_file' | 'invalid_file', message: string) {
    super(message);
  }
}

const TEXT_EXT = new Set([
  '.txt', '.md', '.markdown', '.json', '.jsonl', '.csv', '.tsv', '.xml', '.yaml', '.yml', '.log', '.rst', '.tex',
  '.py', '.js', '.mjs', '.ts', '.c', '.h', '.cpp', '.cc', '.hpp', '.cs', '.java', '.go', '.rb', '.php', '.sh', '.css', '.sql', '.rs',
]);

export function kindOf(filename: string, mimeType: string): Kind | undefined {
  const ext = extname(filename).toLowerCase();
  if (ext === '.pdf' || mimeType === 'application/pdf') return 'pdf';
  if (ext === '.docx' || mimeType === 'application/vnd.openxmlformats-officedocument.wordprocessingml.document') return 'docx';
  if (ext === '.html' || ext === '.htm' || mimeType === 'text/html') return 'html';
  if (TEXT_EXT.has(ext) || mimeType.startsWith('text/') || mimeType === 'application/json') return 'text';
  return undefined;
}

// The text as written: no link targets, no images, headings and table headers in their own case.
const HTML_SELECTORS = [
  { selector: 'a', options: { ignoreHref: true } },
  { selector: 'img', format: 'skip' },
  ...['h1', 'h2', 'h3', 'h4', 'h5', 'h6'].map((selector) => ({ selector, options: { uppercase: false } })),
  { selector: 'table', options: { uppercaseHeaderCells: false } },
];

export const SUPPORTED = 'txt, md, html, json, csv, pdf, docx and other text or source files';

function utf8(data: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(data);
  } catch {
    throw new ExtractError('invalid_file', 'The file is not valid UTF-8 text.');
  }
}

/** The file's text, normalised: NUL removed (PostgreSQL cannot store it), line endings unified. */
export async function extractText(filename: string, mimeType: string, data: Buffer): Promise<string> {
  const kind = kindOf(filename, mimeType);
  let text: string;
  switch (kind) {
    case 'text':
      text = utf8(data);
      break;
    case 'html':
      text = (await import('html-to-text')).convert(utf8(data), { wordwrap: false, selectors: HTML_SELECTORS });
      break;
    case 'pdf':
      try {
        // verbosity 0: pdf.js would print its repair warnings to the server's stdout.
        const { extractText: pdfText, getDocumentProxy } = await import('unpdf');
        const doc = await getDocumentProxy(new Uint8Array(data), { verbosity: 0 });
        text = (await pdfText(doc, { mergePages: true })).text;
      } catch (err) {
        throw new ExtractError('invalid_file', `The PDF could not be read: ${(err as Error).message}`);
      }
      break;
    case 'docx':
      try {
        const mammoth = (await import('mammoth')).default;
        text = (await mammoth.extractRawText({ buffer: data })).value;
      } catch (err) {
        throw new ExtractError('invalid_file', `The DOCX file could not be read: ${(err as Error).message}`);
      }
      break;
    default:
      throw new ExtractError('unsupported_file', `Files of this type cannot be searched; supported: ${SUPPORTED}.`);
  }
  return text.replace(/\u0000/g, '').replace(/\r\n?/g, '\n');
}

// An images server for tests, on loopback, speaking OpenAI's images API: `POST /v1/images/generations`
// with {model, prompt, n, size, quality, output_format, background, response_format, stream,
// partial_images} → {created, data:[{b64_json, revised_prompt}], size, quality, background,
// output_format}, or, with `stream: true` (while `streams` is on), server-sent events
// `image_generation.partial_image` × partial_images then `image_generation.completed`. Every image is
// a real PNG (pngImage) of the requested size, so tests can decode what they get back. A prompt
// containing "melt the gpu" is answered with HTTP 500 in OpenAI's error shape; one containing "slowly"
// takes 10 s.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { deflateSync } from 'node:zlib';

export const IMAGES_KEY = 'images-test-key';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** A valid RGB PNG, width × height, a diagonal gradient tinted by `shade` (so partials differ from the final image). */
export function pngImage(width: number, height: number, shade = 0): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.writeUInt8(8, 8); // bit depth
  ihdr.writeUInt8(2, 9); // colour type: RGB
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1); // filter byte 0 (none) first
    for (let x = 0; x < width; x++) {
      raw[row + 1 + x * 3] = (x * 255 / Math.max(1, width - 1)) & 0xff;
      raw[row + 2 + x * 3] = (y * 255 / Math.max(1, height - 1)) & 0xff;
      raw[row + 3 + x * 3] = shade & 0xff;
    }
  }
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([sig, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

export interface MockImages {
  /** The API base (…/v1), what IMAGES_BASE_URL is set to. */
  url: string;
  requests: Array<{ body: Record<string, any>; authorization?: string }>;
  /** Whether `stream: true` is honoured (OpenAI), ignored (LocalAI, stable-diffusion.cpp) or refused with a 400. */
  streams: boolean | 'refuse';
  close(): Promise<void>;
}

export async function startMockImages(): Promise<MockImages> {
  const mock: MockImages = { url: '', requests: [], streams: true, close: async () => {} };
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      const json = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.method !== 'POST' || req.url !== '/v1/images/generations') return json(404, { error: { message: 'not found', type: 'invalid_request_error' } });
      let body: Record<string, any>;
      try {
        body = JSON.parse(Buffer.concat(parts).toString('utf8'));
      } catch {
        return json(400, { error: { message: 'body is not JSON', type: 'invalid_request_error' } });
      }
      mock.requests.push({ body, authorization: req.headers.authorization });
      if (req.headers.authorization !== `Bearer ${IMAGES_KEY}`) return json(401, { error: { message: 'Incorrect API key provided', type: 'invalid_request_error', code: 'invalid_api_key' } });
      if (typeof body.prompt !== 'string' || !body.prompt) return json(400, { error: { message: "Missing required parameter: 'prompt'", type: 'invalid_request_error', param: 'prompt' } });
      if (body.prompt.includes('slowly')) {
        // Drawn for 10 s unless the client hangs up first (a cancelled response).
        const timer = setTimeout(() => json(200, { created: 0, data: [{ b64_json: pngImage(8, 8).toString('base64') }] }), 10_000);
        res.on('close', () => clearTimeout(timer));
        return;
      }
      if (body.prompt.includes('melt the gpu')) return json(500, { error: { message: 'The image backend ran out of memory', type: 'server_error' } });
      if (mock.streams === 'refuse' && 'stream' in body) return json(400, { error: { message: "Unknown parameter: 'stream'", type: 'invalid_request_error', param: 'stream' } });
      const [w, h] = (body.size ?? '64x64').split('x').map(Number);
      const meta = { background: body.background ?? 'opaque', output_format: body.output_format ?? 'png', quality: body.quality ?? 'medium', size: `${w}x${h}` };
      const final = pngImage(w, h).toString('base64');
      if (body.stream === true && mock.streams === true) {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        const n = Number(body.partial_images) || 0;
        const send = (type: string, data: Record<string, unknown>) => res.write(`event: ${type}\ndata: ${JSON.stringify({ type, created_at: Math.floor(Date.now() / 1000), ...meta, ...data })}\n\n`);
        for (let i = 0; i < n; i++) send('image_generation.partial_image', { b64_json: pngImage(w, h, 60 * (i + 1)).toString('base64'), partial_image_index: i });
        send('image_generation.completed', { b64_json: final, usage: { input_tokens: 10, output_tokens: 100, total_tokens: 110, input_tokens_details: { image_tokens: 0, text_tokens: 10 } } });
        return res.end();
      }
      json(200, { created: Math.floor(Date.now() / 1000), data: [{ b64_json: final, revised_prompt: `A detailed picture: ${body.prompt}` }], ...meta });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  mock.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  mock.close = () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); });
  return mock;
}

// The hosted code_interpreter tool, run by respd in its bubblewrap sandbox: a pandas job, figures as
// image outputs (only with include=code_interpreter_call.outputs), files written becoming container files
// cited with container_file_citation, the stream's events, containers by id, max_tool_calls and
// background runs. Then every escape a user's code might try — /etc/passwd, the server's data, another
// container's files, a socket, root, a fork bomb, an endless loop, a huge allocation — fails, and the
// response still completes with the error in the call's output. Last, a server whose sandbox cannot run
// (no Python) starts, does not offer the tool, and refuses a tool_choice forcing it with a 400 naming it.
// The model's decisions come from the mock upstream's `mock-script` model, which calls `python`.
// Without bubblewrap + Python (a developer's machine) the sandboxed part is skipped with the reason
// printed; in CI (CI=true) it must run.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import OpenAI, { toFile } from 'openai';
import { status } from './support/api-status.js';
import { startMockUpstream, type MockUpstream, type ScriptSpec } from './support/mock-upstream.js';
import { KEY_B, readSse, startServer, type TestServer } from './support/server.js';

const PY = process.env.CODE_INTERPRETER_PYTHON || '/usr/bin/python3';

function missingRuntime(): string | null {
  const b = spawnSync('bwrap', ['--version'], { encoding: 'utf8' });
  if (b.error || b.status !== 0) return 'bubblewrap (bwrap) is not installed';
  const p = spawnSync(PY, ['-c', 'import numpy, pandas, matplotlib'], { encoding: 'utf8' });
  if (p.error || p.status !== 0) return `${PY} with numpy, pandas and matplotlib is not installed (apt-get install python3-pandas python3-matplotlib)`;
  return null;
}
const missing = missingRuntime();
if (missing && process.env.CI === 'true') throw new Error(`CI must run the code_interpreter tests, but ${missing}`);
if (missing) console.log(`# code_interpreter sandbox tests skipped: ${missing}`);

let nonce = 0;
const script = (spec: ScriptSpec) => JSON.stringify({ ...spec, nonce: nonce++ });
const py = (code: string) => ({ name: 'python', arguments: JSON.stringify({ code }) });
const MODEL = 'openai:mock-script';
const OUTPUTS = 'code_interpreter_call.outputs' as const;
type CiCall = OpenAI.Responses.ResponseCodeInterpreterToolCall;
const calls = (r: OpenAI.Responses.Response) => r.output.filter((i) => i.type === 'code_interpreter_call') as CiCall[];
const logsOf = (c: CiCall) => (c.outputs ?? []).filter((o) => o.type === 'logs').map((o) => (o as any).logs).join('\n');

describe('code_interpreter in the sandbox', { skip: missing ?? false }, () => {
  let upstream: MockUpstream;
  let server: TestServer;
  let client: OpenAI;
  const tools = [{ type: 'code_interpreter' as const, container: { type: 'auto' as const } }];
  const runDirs = () => readdirSync(tmpdir()).filter((n) => n.startsWith('respd-ci-'));
  let dirsBefore: string[] = [];

  before(async () => {
    dirsBefore = runDirs();
    upstream = await startMockUpstream();
    server = await startServer({
      env: {
        OPENAI_BASE_URL: upstream.url, CODE_INTERPRETER: 'bwrap', CODE_INTERPRETER_PYTHON: PY,
        CODE_INTERPRETER_CPU_SECONDS: '3', CODE_INTERPRETER_TIMEOUT_MS: '8000', CODE_INTERPRETER_MEMORY_MB: '768', CODE_INTERPRETER_MAX_MEMORY_MB: '768',
      },
    });
    client = server.client();
  });
  after(async () => {
    await server?.stop();
    await upstream?.close();
  });

  /** One response whose model runs `code` once; the call's outputs included. */
  async function run(code: string, extra: Record<string, unknown> = {}) {
    const r = await client.responses.create({ model: MODEL, input: script({ calls: [py(code)], answer: 'done' }), tools, include: [OUTPUTS], ...extra } as any);
    assert.equal(r.status, 'completed', JSON.stringify(r.error));
    const [c] = calls(r);
    assert.ok(c, 'a code_interpreter_call item');
    return { r, c: c!, logs: logsOf(c!) };
  }

  it('runs a pandas job, hides outputs unless included, and keeps what the code wrote as a cited container file', async () => {
    const code = [
      'import pandas as pd, numpy as np',
      "df = pd.DataFrame({'k': np.arange(1000) % 4, 'v': np.arange(1000)})",
      "df.groupby('k').v.sum().to_csv('sums.csv')",
      "print(df.groupby('k').v.sum().to_dict())",
      'len(df)',
    ].join('\n');
    const r = await client.responses.create({ model: MODEL, input: script({ calls: [py(code)], answer: 'see sums.csv' }), tools });
    assert.equal(r.status, 'completed');
    assert.deepEqual(r.output.map((i) => i.type), ['code_interpreter_call', 'message']);
    const c = calls(r)[0]!;
    assert.match(c.id, /^ci_/);
    assert.equal(c.status, 'completed');
    assert.equal(c.code, code);
    assert.match(c.container_id, /^cntr_/);
    assert.equal(c.outputs, null, 'outputs only when included');
    assert.deepEqual(upstream.lastChat().body.tools.map((t: any) => t.function.name), ['python']);

    const included = await client.responses.retrieve(r.id, { include: [OUTPUTS] });
    const logs = logsOf(calls(included)[0]!);
    assert.match(logs, /\{0: 124500, 1: 124750, 2: 125000, 3: 125250\}/);
    assert.match(logs, /^1000$/m, 'the last expression is shown');

    const msg = r.output[1] as OpenAI.Responses.ResponseOutputMessage;
    const text = msg.content[0] as OpenAI.Responses.ResponseOutputText;
    assert.match(text.text, /files saved: \/mnt\/data\/sums\.csv/, 'the model was told of the file');
    const cite = text.annotations.find((a) => a.type === 'container_file_citation') as OpenAI.Responses.ResponseOutputText.ContainerFileCitation;
    assert.ok(cite, 'a container_file_citation');
    assert.equal(cite.container_id, c.container_id);
    assert.equal(cite.filename, 'sums.csv');
    assert.equal(text.text.slice(cite.start_index, cite.end_index), 'sums.csv');

    const file = await client.containers.files.retrieve(cite.file_id, { container_id: c.container_id });
    assert.equal(file.path, '/mnt/data/sums.csv');
    assert.equal(file.source, 'assistant');
    const body = await (await client.containers.files.content.retrieve(cite.file_id, { container_id: c.container_id })).text();
    assert.equal(body, 'k,v\n0,124500\n1,124750\n2,125000\n3,125250\n');
  });

  it('shows a matplotlib figure as an image output and a traceback as logs', async () => {
    const { c } = await run('import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nplt.title("t")\nprint("plotted")');
    const image = c.outputs!.find((o) => o.type === 'image') as { type: 'image'; url: string };
    assert.ok(image, 'an image output');
    assert.match(image.url, /^data:image\/png;base64,iVBORw0KGgo/);
    const { c: bad, logs } = await run('x = 1\n1 / 0');
    assert.equal(bad.status, 'completed', 'an exception is the code\'s own outcome');
    assert.match(logs, /ZeroDivisionError: division by zero/);
    assert.doesNotMatch(logs, /_exec|bootstrap/);
  });

  it('streams in_progress, the code, interpreting and completed, in order', async () => {
    const code = 'print(6 * 7)';
    const body = { model: MODEL, input: script({ calls: [py(code)] }), tools, stream: true, include: [OUTPUTS] };
    const events = await readSse(await server.fetch('/responses', { method: 'POST', body: JSON.stringify(body) }));
    const types = events.map((e) => e.data.type);
    const at = (t: string) => types.indexOf(t);
    const order = ['response.output_item.added', 'response.code_interpreter_call.in_progress', 'response.code_interpreter_call_code.delta',
      'response.code_interpreter_call_code.done', 'response.code_interpreter_call.interpreting', 'response.code_interpreter_call.completed'];
    for (let i = 1; i < order.length; i++) assert.ok(at(order[i]!) > at(order[i - 1]!), `${order[i]} after ${order[i - 1]}`);
    assert.equal(events.find((e) => e.data.type === 'response.code_interpreter_call_code.done')!.data.code, code);
    const added = events.find((e) => e.data.type === 'response.output_item.added' && e.data.item.type === 'code_interpreter_call')!;
    assert.match(added.data.item.container_id, /^cntr_/, 'the item names its container from the start');
    const done = events.find((e) => e.data.type === 'response.output_item.done' && e.data.item.type === 'code_interpreter_call')!;
    assert.deepEqual(done.data.item.outputs, [{ type: 'logs', logs: '42\n' }]);
    assert.equal(types.at(-1), 'response.completed');
    const id = events[0].data.response.id;
    const plain = await readSse(await server.fetch(`/responses/${id}?stream=true&starting_after=0`));
    assert.equal(plain.find((e) => e.data.type === 'response.output_item.done' && e.data.item.type === 'code_interpreter_call')!.data.item.outputs, null);
  });

  it('runs in a container given by id, with its files, and keeps one auto container across the calls of a response', async () => {
    const cntr = await client.containers.create({ name: 'data' });
    await client.containers.files.create(cntr.id, { file: await toFile(Buffer.from('a,b\n1,2\n3,4\n'), 'in.csv') });
    const r = await client.responses.create({
      model: MODEL, input: script({ calls: [py("import pandas as pd\nprint(pd.read_csv('in.csv').b.sum())")] }),
      tools: [{ type: 'code_interpreter', container: cntr.id }], include: [OUTPUTS],
    });
    assert.equal(calls(r)[0]!.container_id, cntr.id);
    assert.match(logsOf(calls(r)[0]!), /^6$/m);

    const two = await client.responses.create({
      model: MODEL, input: script({ calls: [py("open('state.txt','w').write('kept')"), py("print(open('state.txt').read())")] }), tools, include: [OUTPUTS],
    });
    const [a, b] = calls(two);
    assert.equal(a!.container_id, b!.container_id, 'one container per response');
    assert.match(logsOf(b!), /kept/);

    const other = await status(client.responses.create({ model: MODEL, input: 'x', tools: [{ type: 'code_interpreter', container: cntr.id }] }, { headers: { authorization: `Bearer ${KEY_B}` } }));
    assert.equal(other.status, 404, 'another key\'s container is not found');
    assert.equal(other.param, 'tools[0].container');
  });

  it('counts against max_tool_calls and runs in background responses', async () => {
    const r = await client.responses.create({ model: MODEL, input: script({ calls: [py('print(1)')], loop: true }), tools, max_tool_calls: 2 } as any) as OpenAI.Responses.Response;
    assert.equal(r.status, 'completed');
    assert.equal(calls(r).length, 2);

    let bg = await client.responses.create({ model: MODEL, input: script({ calls: [py('print(2 ** 10)')], answer: 'bg' }), tools, background: true });
    for (let i = 0; i < 200 && (bg.status === 'queued' || bg.status === 'in_progress'); i++) {
      await new Promise((res) => setTimeout(res, 100));
      bg = await client.responses.retrieve(bg.id, { include: [OUTPUTS] });
    }
    assert.equal(bg.status, 'completed');
    assert.match(logsOf(calls(bg)[0]!), /1024/);
  });

  describe('escapes fail, and the response completes with the error in the output', () => {
    it('cannot read /etc/passwd, the server\'s data folder or the host\'s /tmp', async () => {
      const { logs } = await run([
        'import os',
        "for p in ['/etc/passwd', '/etc/shadow', '/root/.bashrc']:",
        '    try: open(p).read(); print("READ", p)',
        '    except OSError as e: print("denied", p, type(e).__name__)',
        `for p in [${JSON.stringify(server.dataDir)}, ${JSON.stringify(tmpdir())}, '/proc/1/root/etc']:`,
        '    try: print("LIST", p, os.listdir(p))',
        '    except OSError as e: print("denied", p, type(e).__name__)',
        "print('tmp', os.listdir('/tmp'))",
      ].join('\n'));
      assert.doesNotMatch(logs, /READ|root:x:0/);
      assert.match(logs, /denied \/etc\/passwd FileNotFoundError/);
      assert.match(logs, /denied \/etc\/shadow/);
      assert.match(logs, new RegExp(`denied ${server.dataDir} FileNotFoundError`), 'the server\'s data folder is not there');
      assert.doesNotMatch(logs, /respd\.db|respd-ci-/, 'nothing of the host is visible');
      assert.match(logs, /^tmp \[\]$/m, 'a private, empty /tmp');
    });

    it('cannot see another container\'s files', async () => {
      const secret = await client.containers.create({ name: 'secret' });
      await client.containers.files.create(secret.id, { file: await toFile(Buffer.from('TOP-SECRET'), 'secret.txt') });
      const { logs } = await run([
        'import os, glob',
        "print('mine', sorted(os.listdir('/mnt/data')))",
        "print('found', [os.path.join(d, f) for top in ['/mnt', '/tmp', '/var', '/etc', '/dev', '/proc/self/root/mnt'] for d, _, fs in os.walk(top) for f in fs if f == 'secret.txt'])",
        `print('hosts', glob.glob('/tmp/respd-ci-*'), os.path.exists('/mnt/${secret.id}'))`,
      ].join('\n'));
      assert.match(logs, /^mine \[\]$/m);
      assert.match(logs, /^found \[\]$/m);
      assert.match(logs, /^hosts \[\] False$/m);
      assert.doesNotMatch(logs, /TOP-SECRET/);
      // Nor by naming the other container as its own: the other key's container is refused at create.
      const other = await status(server.client(KEY_B).responses.create({ model: MODEL, input: 'x', tools: [{ type: 'code_interpreter', container: secret.id }] }));
      assert.equal(other.status, 404);
    });

    it('cannot open a socket to the server, the database or the internet', async () => {
      const port = new URL(server.url).port;
      const { logs } = await run([
        'import socket',
        `for host, port in [('127.0.0.1', ${port}), ('127.0.0.1', 5432), ('1.1.1.1', 443), ('8.8.8.8', 53)]:`,
        '    s = socket.socket(); s.settimeout(2)',
        '    try: s.connect((host, port)); print("CONNECTED", host, port)',
        '    except OSError as e: print("refused", host, port, type(e).__name__)',
        "try: socket.getaddrinfo('example.com', 80); print('RESOLVED')",
        'except OSError as e: print("no dns", type(e).__name__)',
      ].join('\n'));
      assert.doesNotMatch(logs, /CONNECTED|RESOLVED/);
      assert.equal(logs.match(/^refused /gm)?.length, 4);
      assert.match(logs, /no dns/);
    });

    it('is not root, cannot become root, and sees no process of the host', async () => {
      const { logs } = await run([
        'import os',
        "print('uid', os.getuid(), os.geteuid())",
        'try: os.setuid(0); print("ROOT")',
        'except OSError as e: print("setuid", type(e).__name__)',
        `try: os.kill(${server.proc.pid}, 9); print("KILLED")`,
        'except OSError as e: print("kill", type(e).__name__)',
        "print('pids', sorted(int(p) for p in os.listdir('/proc') if p.isdigit()))",
      ].join('\n'));
      assert.doesNotMatch(logs, /ROOT|uid 0 /);
      assert.match(logs, /setuid (PermissionError|OSError)/);
      assert.match(logs, /kill (ProcessLookupError|PermissionError)/, 'the server\'s process is out of reach');
      assert.doesNotMatch(logs, /KILLED/);
      assert.match(logs, /^pids \[1, 2\]$/m, 'only the sandbox\'s own processes are visible');
    });

    it('a fork bomb hits the process limit', async () => {
      const started = Date.now();
      const { c, logs } = await run('import os\nwhile True:\n    os.fork()');
      assert.match(logs, /BlockingIOError|Resource temporarily unavailable|stopped/);
      assert.ok(Date.now() - started < 30_000);
      assert.ok(['completed', 'failed'].includes(c.status));
      const { logs: after } = await run('print("still fine")');
      assert.match(after, /still fine/, 'the next run is unaffected');
    });

    it('an endless loop is stopped by the CPU or wall-clock limit', async () => {
      const { c, logs } = await run('while True:\n    pass');
      assert.equal(c.status, 'failed');
      assert.match(logs, /stopped: the run exceeded its (CPU time|wall-clock) limit/);
      const { c: sleeper, logs: slept } = await run('import time\ntime.sleep(60)');
      assert.equal(sleeper.status, 'failed');
      assert.match(slept, /wall-clock limit of 8000 ms/);
    });

    it('an allocation far past the memory limit fails', async () => {
      const { logs } = await run('x = bytearray(8 * 1024 ** 3)\nprint("ALLOCATED")');
      assert.doesNotMatch(logs, /ALLOCATED/);
      assert.match(logs, /MemoryError/);
      const { logs: np } = await run('import numpy as np\ntry:\n    a = np.ones((1024, 1024, 1024))\n    print("ALLOCATED")\nexcept MemoryError as e:\n    print("numpy", type(e).__name__)');
      assert.match(np, /numpy (MemoryError|_ArrayMemoryError)/);
    });

    it('leaves no run folder behind', () => {
      assert.deepEqual(runDirs().filter((n) => !dirsBefore.includes(n)), [], 'every run folder (and the start-up probe\'s) is removed');
    });
  });
});

describe('code_interpreter without a sandbox', () => {
  let upstream: MockUpstream;
  let server: TestServer;
  let client: OpenAI;
  before(async () => {
    upstream = await startMockUpstream();
    // Python is missing: the server starts anyway, and the tool is not configured.
    server = await startServer({ env: { OPENAI_BASE_URL: upstream.url, CODE_INTERPRETER: 'bwrap', CODE_INTERPRETER_PYTHON: '/nonexistent/python3' } });
    client = server.client();
  });
  after(async () => {
    await server?.stop();
    await upstream?.close();
  });

  it('starts, says why in the log, and does not offer the tool', async () => {
    assert.ok(server.logs.some((l) => l.includes('code_interpreter is not configured')), 'a warning names the tool');
    const r = await client.responses.create({ model: MODEL, input: script({ answer: 'plain' }), tools: [{ type: 'code_interpreter', container: { type: 'auto' } }] });
    assert.equal(r.status, 'completed');
    assert.equal(upstream.lastChat().body.tools, undefined, 'no tool offered');
    assert.deepEqual(r.tools, [{ type: 'code_interpreter', container: { type: 'auto', file_ids: [], memory_limit: '1g' } }]);
  });

  it('refuses a tool_choice that forces it with a 400 naming it', async () => {
    const tools = [{ type: 'code_interpreter' as const, container: { type: 'auto' as const } }];
    const forced = await status(client.responses.create({ model: MODEL, input: 'x', tools, tool_choice: { type: 'code_interpreter' } } as any));
    assert.deepEqual(forced, { status: 400, param: 'tool_choice', code: 'unsupported_tool' });
    const res = await server.fetch('/responses', { method: 'POST', body: JSON.stringify({ model: MODEL, input: 'x', tools, tool_choice: { type: 'code_interpreter' } }) });
    assert.match((await res.json()).error.message, /code_interpreter.*not configured/);
    const allowed = await status(client.responses.create({
      model: MODEL, input: 'x', tools, tool_choice: { type: 'allowed_tools', mode: 'required', tools: [{ type: 'code_interpreter' }] },
    } as any));
    assert.equal(allowed.status, 400);
  });

  it('validates the tool\'s container', async () => {
    const bad = async (container: unknown) => status(client.responses.create({ model: MODEL, input: 'x', tools: [{ type: 'code_interpreter', container }] } as any));
    assert.equal((await bad('not-a-container')).param, 'tools[0].container');
    assert.equal((await bad({ type: 'auto', memory_limit: '2g' })).param, 'tools[0].container.memory_limit');
    assert.equal((await bad({ type: 'auto', network_policy: { type: 'allowlist', allowed_domains: ['x.org'] } })).param, 'tools[0].container.network_policy');
    assert.equal((await bad({ type: 'manual' })).status, 400);
  });
});

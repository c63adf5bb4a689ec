// The reasoning sealer in-process: key file generation and reuse, rotation, REASONING_KEYS parsing.
// (What clients see over HTTP is in reasoning.test.ts.)
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../src/config/index.js';
import { ReasoningSealer, SealError } from '../src/responses/sealed-reasoning.js';

const alice = { tenant: 't1', endUser: 'alice' };

describe('reasoning sealer', () => {
  it('generates its key once into the data folder (0600) and reuses it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'respd-seal-'));
    try {
      const said: string[] = [];
      const a = ReasoningSealer.fromDataDir(dir, (m) => said.push(m));
      const file = join(dir, 'reasoning-keys.json');
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.equal(said.length, 1);
      const blob = a.seal('thought', alice);
      const b = ReasoningSealer.fromDataDir(dir, (m) => said.push(m));
      assert.equal(said.length, 1, 'nothing new created');
      assert.equal(b.open(blob, alice), 'thought');
      assert.equal(JSON.parse(readFileSync(file, 'utf8')).keys.length, 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rotates: the first key seals, every key opens; a removed key or another owner does not', () => {
    const k1 = { id: 'k1', key: randomBytes(32) };
    const k2 = { id: 'k2', key: randomBytes(32) };
    const before = new ReasoningSealer([k1]);
    const during = new ReasoningSealer([k2, k1]);
    const after = new ReasoningSealer([k2]);
    const old = before.seal('ünïcode thought ✓', alice);
    assert.equal(during.open(old, alice), 'ünïcode thought ✓');
    const fresh = during.seal('new', alice);
    assert.equal(after.open(fresh, alice), 'new');
    assert.throws(() => after.open(old, alice), SealError);
    assert.throws(() => during.open(old, { tenant: 't1', endUser: 'bob' }), SealError);
    assert.throws(() => during.open(old, { tenant: 't2', endUser: 'alice' }), SealError);
    assert.throws(() => during.open(old, { tenant: 't1', endUser: '' }), SealError);
    // The owner fields cannot be shifted into each other.
    const split = before.seal('x', { tenant: 'ab', endUser: 'c' });
    assert.throws(() => before.open(split, { tenant: 'a', endUser: 'bc' }), SealError);
    assert.equal(before.open(before.seal('', alice), alice), '');
  });

  it('REASONING_KEYS: id:base64key, 32-byte keys, unique ids; anything else stops the start', () => {
    const key = randomBytes(32).toString('base64');
    const ok = loadConfig({ REASONING_KEYS: `a:${key}, b.2:${key}` }, process.cwd()).reasoningKeys!;
    assert.deepEqual(ok.map((k) => k.id), ['a', 'b.2']);
    assert.equal(ok[0].key.length, 32);
    for (const bad of ['a:AAAA', `:${key}`, key, `a:${key},a:${key}`, `a b:${key}`, ',']) {
      assert.throws(() => loadConfig({ REASONING_KEYS: bad }, process.cwd()), ConfigError, bad);
    }
    assert.equal(loadConfig({}, process.cwd()).reasoningKeys, undefined);
  });
});

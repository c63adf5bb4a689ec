// An agent built with OpenAI's Agents SDK (`@openai/agents`) runs against respd unchanged: its Responses
// model calls respd, respd routes to an upstream whose scripted model calls the agent's function tool,
// the SDK executes it and sends the result back, and the final answer carries the tool's result.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, run, setOpenAIAPI, setTracingDisabled, tool } from '@openai/agents';
import { z } from 'zod';
import { startMockUpstream } from './support/mock-upstream.js';
import { KEY_A, startServer, type TestServer } from './support/server.js';

let server: TestServer;
let upstream: Awaited<ReturnType<typeof startMockUpstream>>;

before(async () => {
  upstream = await startMockUpstream();
  server = await startServer({ env: { OPENAI_BASE_URL: upstream.url } });
  // The SDK builds its own OpenAI client from these, as a user's app would.
  process.env.OPENAI_BASE_URL = server.baseURL;
  process.env.OPENAI_API_KEY = KEY_A;
  setTracingDisabled(true);
  setOpenAIAPI('responses');
});
after(async () => {
  await server?.stop();
  await upstream?.close();
});

describe('@openai/agents', () => {
  it('runs an agent with one function tool through respd', async () => {
    const calls: string[] = [];
    const getWeather = tool({
      name: 'get_weather',
      description: 'Weather for a city',
      parameters: z.object({ city: z.string() }),
      execute: async ({ city }) => {
        calls.push(city);
        return `sunny in ${city}`;
      },
    });
    const agent = new Agent({ name: 'weather', instructions: 'Answer with the weather.', model: 'openai:mock-script', tools: [getWeather] });
    const script = JSON.stringify({ calls: [{ name: 'get_weather', arguments: '{"city":"Paris"}' }], answer: 'done' });
    const result = await run(agent, script);
    assert.deepEqual(calls, ['Paris']);
    assert.equal(result.finalOutput, 'done: sunny in Paris');
    // Both model turns were stored by respd as responses of this key.
    const list = await server.fetch('/responses?limit=10').then((r) => r.json());
    const turns = list.data.filter((r: any) => r.model === 'openai:mock-script');
    assert.ok(turns.length >= 2);
    assert.ok(turns.some((r: any) => r.output.some((it: any) => it.type === 'function_call' && it.name === 'get_weather')));
  });
});

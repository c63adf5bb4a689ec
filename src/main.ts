// Entry point for `npm start`: load config, start, drain on SIGTERM/SIGINT.
import { pino } from 'pino';
import { ConfigError, loadConfig, type Config } from './config/index.js';
import { startServer } from './server.js';

let config: Config;
try {
  config = loadConfig();
} catch (err) {
  // A bad setting stops the start with one line that names it, not a stack trace.
  if (!(err instanceof ConfigError)) throw err;
  console.error(`respd: invalid configuration: ${err.message}`);
  process.exit(1);
}
const logger = pino({ level: config.logLevel });
const server = await startServer(config, logger).catch((err) => {
  logger.fatal({ err }, 'respd failed to start');
  process.exit(1);
});
logger.info(`respd listening on ${server.url}/api/v1/llm (model auto → ${config.autoModel ?? 'none'})`);

let stopping = false;
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.on(sig, () => {
    if (stopping) return;
    stopping = true;
    logger.info(`${sig}: draining`);
    server.close(config.drainMs).then(() => process.exit(0), (err) => {
      logger.error({ err }, 'shutdown failed');
      process.exit(1);
    });
  });
}

// Builds the code_interpreter backend at start-up: only when CODE_INTERPRETER=bwrap, the store keeps
// containers, and one trivial sandboxed run works here. Otherwise the tool is "not configured" (accepted,
// never offered, a 400 when tool_choice forces it) and the server starts anyway: a machine without
// Python or bubblewrap is a supported set-up, said once in the log.
import type { CodeInterpreterConfig } from '../../config/code-interpreter.js';
import { ContainersService } from '../../containers/service.js';
import type { Store } from '../../store/types.js';
import { Sandbox } from './sandbox.js';
import type { CodeInterpreterBackend } from './tool.js';

export function codeInterpreterBackend(
  cfg: CodeInterpreterConfig | undefined, store: Store, warn: (msg: string) => void,
): CodeInterpreterBackend | undefined {
  if (!cfg) return undefined;
  if (!store.containers) {
    warn(`code_interpreter is not configured: the '${store.kind}' store keeps no containers.`);
    return undefined;
  }
  const sandbox = new Sandbox(cfg);
  const why = sandbox.probe();
  if (why) {
    warn(`code_interpreter is not configured: the sandbox (${cfg.bwrap} + ${cfg.python}) cannot run here: ${why}`);
    return undefined;
  }
  return { sandbox, containers: new ContainersService(store.containers, store.files, cfg.idleMinutes), cfg };
}

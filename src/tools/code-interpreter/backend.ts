// Builds the code_interpreter backend at start-up: only when CODE_INTERPRETER=bwrap, the store keeps
// containers, and one trivial sandboxed run works here. Otherwise the tool is "not configured" (accepted,
// never offered, a 400 when tool_choice forces it) and the server starts anyway: a machine without
// Python or bubblewrap is a supported set-up, said once in the log.
import type { CodeInterpreterConfig } from '../../config/code-interpreter.js';
import { Sandbox } from './sandbox.js';
import type { CodeInterpreterBackend, ContainerAccess } from './tool.js';

/** `containers`: undefined when the store keeps none (the tool is then not configured either). */
export function codeInterpreterBackend(
  cfg: CodeInterpreterConfig | undefined, containers: ContainerAccess | undefined, warn: (msg: string) => void,
): CodeInterpreterBackend | undefined {
  if (!cfg) return undefined;
  if (!containers) {
    warn('code_interpreter is not configured: the store keeps no containers.');
    return undefined;
  }
  const sandbox = new Sandbox(cfg);
  const why = sandbox.probe();
  if (why) {
    warn(`code_interpreter is not configured: the sandbox (${cfg.bwrap} + ${cfg.python}) cannot run here: ${why}`);
    return undefined;
  }
  return { sandbox, containers, cfg };
}

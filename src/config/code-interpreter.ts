// CODE_INTERPRETER_* settings (README "Code interpreter"): the hosted code_interpreter tool and the
// Containers API. Off unless CODE_INTERPRETER=bwrap; even then the server starts without Python or
// bubblewrap on the machine (server.ts probes the sandbox once and, if it cannot run, the tool is
// "not configured": accepted, never offered, a 400 when tool_choice forces it).

export interface CodeInterpreterConfig {
  /** The sandbox runtime; only bubblewrap for now (see tools/code-interpreter/sandbox.ts for why). */
  sandbox: 'bwrap';
  /** The Python inside the sandbox (a system Python with Debian's numpy/pandas/matplotlib). */
  python: string;
  bwrap: string;
  /** CPU seconds one run may use (RLIMIT_CPU), and its wall-clock limit. */
  cpuSeconds: number;
  timeoutMs: number;
  /** Address space of a run when the container asks for nothing bigger (MB), and the most any container gets. */
  memoryMb: number;
  maxMemoryMb: number;
  /** Processes and threads one run may have (RLIMIT_NPROC, under a uid of its own when respd runs as root). */
  maxProcs: number;
  /** Largest file a run may write, and the most log text kept per run (bytes). */
  maxFileBytes: number;
  maxLogBytes: number;
  /** Minutes without use after which a container expires (expires_after default, OpenAI's 20). */
  idleMinutes: number;
}

export function loadCodeInterpreter(
  env: NodeJS.ProcessEnv,
  int: (name: string, dflt: number, min?: number) => number,
  fail: (msg: string) => Error,
): CodeInterpreterConfig | undefined {
  const mode = env.CODE_INTERPRETER ?? '';
  if (mode === '' || mode === 'off') return undefined;
  if (mode !== 'bwrap') throw fail(`CODE_INTERPRETER must be 'bwrap' or 'off', got '${mode}'`);
  const memoryMb = int('CODE_INTERPRETER_MEMORY_MB', 1024, 64);
  const maxMemoryMb = int('CODE_INTERPRETER_MAX_MEMORY_MB', Math.max(memoryMb, 4096), 64);
  if (maxMemoryMb < memoryMb) throw fail('CODE_INTERPRETER_MAX_MEMORY_MB must be at least CODE_INTERPRETER_MEMORY_MB');
  return {
    sandbox: 'bwrap',
    python: env.CODE_INTERPRETER_PYTHON || '/usr/bin/python3',
    bwrap: env.CODE_INTERPRETER_BWRAP || 'bwrap',
    cpuSeconds: int('CODE_INTERPRETER_CPU_SECONDS', 30, 1),
    timeoutMs: int('CODE_INTERPRETER_TIMEOUT_MS', 60_000, 100),
    memoryMb,
    maxMemoryMb,
    maxProcs: int('CODE_INTERPRETER_MAX_PROCS', 64, 4),
    maxFileBytes: int('CODE_INTERPRETER_MAX_FILE_BYTES', 32 * 1024 * 1024, 1024),
    maxLogBytes: int('CODE_INTERPRETER_MAX_LOG_BYTES', 64 * 1024, 256),
    idleMinutes: int('CODE_INTERPRETER_IDLE_MINUTES', 20, 1),
  };
}

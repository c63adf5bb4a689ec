// What the code_interpreter tool may do with containers (tools/code-interpreter/tool.ts's ContainerAccess),
// implemented over ContainersService: built by server.ts, so tools/ never imports this folder.
import type { Owner } from '../store/types.js';
import type { ContainerAccess, RunContainer } from '../tools/code-interpreter/tool.js';
import { ContainersService, containerPath, DATA_ROOT, isExpired } from './service.js';

export function containerAccess(svc: ContainersService, idleMinutes: number): ContainerAccess {
  return {
    async open(owner: Owner, container: unknown, responseId: string, state: { auto?: string }): Promise<RunContainer> {
      if (typeof container === 'string') {
        const rec = await svc.load(owner, container, 'container');
        if (isExpired(rec)) throw new Error(`container ${container} has expired`);
        return { id: rec.id, memoryLimit: rec.memoryLimit };
      }
      if (state.auto) {
        const rec = await svc.load(owner, state.auto, 'container');
        return { id: rec.id, memoryLimit: rec.memoryLimit };
      }
      const c = (container ?? {}) as { file_ids?: string[]; memory_limit?: string };
      const rec = await svc.make(owner, { name: `code_interpreter ${responseId}`, fileIds: c.file_ids ?? [], memoryLimit: c.memory_limit ?? '1g', minutes: idleMinutes });
      state.auto = rec.id;
      return { id: rec.id, memoryLimit: rec.memoryLimit };
    },
    async *files(containerId: string) {
      let after: string | undefined;
      for (;;) {
        const page = await svc.store.listContainerFiles(containerId, { limit: 100, order: 'asc', after });
        for (const f of page) {
          const data = await svc.store.readContainerFile(containerId, f.id);
          if (data) yield { id: f.id, rel: f.path.slice(DATA_ROOT.length + 1), data };
        }
        if (page.length < 100) return;
        after = page[page.length - 1]!.id;
      }
    },
    async put(containerId: string, rel: string, data: Buffer) {
      const path = containerPath(rel);
      if (!path) return null;
      return { id: (await svc.putFile(containerId, path, data, 'assistant')).id };
    },
    async remove(containerId: string, fileId: string) {
      await svc.store.deleteContainerFile(containerId, fileId);
    },
    async touch(containerId: string) {
      await svc.store.touchContainer(containerId, Math.floor(Date.now() / 1000));
    },
  };
}

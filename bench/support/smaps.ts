/**
 * Where a process's resident memory lies, from the kernel's view (`/proc/<pid>/smaps`, Linux): PGlite's
 * WebAssembly memory (the anonymous mapping exactly as large as the heap the daemon reports: its byte length
 * counts pages never touched, this counts the resident ones), JIT code (anonymous executable mappings: V8's
 * code space, compiled WebAssembly), the glibc main heap (`[heap]`), other anonymous memory (the V8 heap,
 * malloc arenas of other threads, large malloc blocks, other WebAssembly memories such as tree-sitter's) and
 * mapped files (the node binary, shared libraries). MB, rounded; null where smaps cannot be read.
 */
import { readFileSync } from 'node:fs';

export interface RssByKind {
  pgliteResidentMb: number;
  jitCodeMb: number;
  mallocHeapMb: number;
  otherAnonMb: number;
  filesMb: number;
}

export function rssByKind(pid: number, pgliteHeapBytes: number | null): RssByKind | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  } catch {
    return null;
  }
  const kb = { pgliteResidentMb: 0, jitCodeMb: 0, mallocHeapMb: 0, otherAnonMb: 0, filesMb: 0 };
  let kind: keyof RssByKind = 'otherAnonMb';
  for (const line of text.split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ (\d+)\s*(.*)$/.exec(line);
    if (head) {
      const size = Number.parseInt(head[2]!, 16) - Number.parseInt(head[1]!, 16);
      const [perms, inode, name] = [head[3]!, head[4]!, head[5]!];
      if (inode !== '0') kind = 'filesMb';
      else if (name === '[heap]') kind = 'mallocHeapMb';
      else if (size === pgliteHeapBytes) kind = 'pgliteResidentMb';
      else if (perms.includes('x')) kind = 'jitCodeMb';
      else kind = 'otherAnonMb';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) kb[kind] += Number(rss[1]);
  }
  const mb = (k: number) => Math.round(k / 1024);
  return {
    pgliteResidentMb: mb(kb.pgliteResidentMb),
    jitCodeMb: mb(kb.jitCodeMb),
    mallocHeapMb: mb(kb.mallocHeapMb),
    otherAnonMb: mb(kb.otherAnonMb),
    filesMb: mb(kb.filesMb),
  };
}

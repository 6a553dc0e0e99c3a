/**
 * fsck: re-reads every object reachable from any ref, HEAD or reflog (each read re-hashes
 * it), checks the structure links up (trees, tables, nodes, leaves, chunks), and that
 * every ref names a commit.
 */
import {decodeJson, type AnnotatedTag, type Commit, type Table, type Tree} from '../model.js'
import {decodeLeaf, decodeNode} from '../table-nodes.js'
import {decodeChunks} from '../blob.js'
import type {ProgressFn, Repository} from '../repository.js'
import type {Oid} from '../bytes.js'

export interface FsckProblem {
  kind: 'object' | 'ref'
  oid?: Oid
  ref?: string
  message: string
}

export interface FsckResult {
  ok: boolean
  objects: number
  problems: FsckProblem[]
}

export async function fsck(repo: Repository, onProgress?: ProgressFn): Promise<FsckResult> {
  const problems: FsckProblem[] = []
  const seen = new Set<Oid>()
  const roots: Array<{oid: Oid; ref: string}> = []
  try {
    const head = repo.headCommit()
    if (head) roots.push({oid: head, ref: 'HEAD'})
  } catch (error) {
    problems.push({kind: 'ref', ref: 'HEAD', message: (error as Error).message})
  }
  for (const prefix of ['refs/heads', 'refs/tags', 'refs/remotes'] as const) {
    try {
      for (const r of repo.refs.list(prefix)) roots.push({oid: r.oid, ref: r.ref})
    } catch (error) {
      problems.push({kind: 'ref', ref: prefix, message: (error as Error).message})
    }
  }
  for (const oid of repo.refs.reflogOids()) roots.push({oid, ref: 'reflog'})

  const stack: Array<{oid: Oid; expect?: string; records?: number}> = []
  for (const r of roots) {
    try {
      const obj = await repo.store.get(r.oid)
      if (obj.kind !== 'commit' && obj.kind !== 'tag') problems.push({kind: 'ref', ref: r.ref, oid: r.oid, message: `points at a ${obj.kind}, not a commit`})
      else stack.push({oid: r.oid})
    } catch (error) {
      problems.push({kind: 'ref', ref: r.ref, oid: r.oid, message: (error as Error).message})
    }
  }
  while (stack.length > 0) {
    const {oid, expect, records} = stack.pop()!
    if (seen.has(oid)) continue
    seen.add(oid)
    if (seen.size % 1000 === 0) onProgress?.({phase: 'checking objects', loaded: seen.size})
    try {
      const obj = await repo.store.get(oid)
      if (expect && obj.kind !== expect) throw new Error(`expected a ${expect}, found a ${obj.kind}`)
      switch (obj.kind) {
        case 'commit': {
          const c = decodeJson<Commit>(obj.content)
          stack.push({oid: c.tree, expect: 'tree'}, ...c.parents.map((p) => ({oid: p, expect: 'commit'})))
          break
        }
        case 'tag':
          stack.push({oid: decodeJson<AnnotatedTag>(obj.content).object})
          break
        case 'tree':
          for (const e of decodeJson<Tree>(obj.content).entries) stack.push({oid: e.oid, expect: e.type === 'dir' ? 'tree' : e.type === 'table' ? 'table' : undefined})
          break
        case 'table': {
          const t = decodeJson<Table>(obj.content)
          if (t.root) stack.push({oid: t.root, expect: t.height === 0 ? 'leaf' : 'node', records: t.records})
          break
        }
        case 'node': {
          const n = decodeNode(obj.content)
          let total = 0
          for (const c of n.children) {
            total += c.records
            stack.push({oid: c.oid.toString('hex'), expect: n.height === 1 ? 'leaf' : 'node', records: c.records})
          }
          if (records !== undefined && total !== records) throw new Error(`holds ${total} records, its parent says ${records}`)
          break
        }
        case 'leaf': {
          const n = decodeLeaf(obj.content).length
          if (records !== undefined && n !== records) throw new Error(`holds ${n} records, its parent says ${records}`)
          break
        }
        case 'chunks':
          for (const c of decodeChunks(obj.content)) stack.push({oid: c.oid, expect: 'blob'})
          break
        case 'blob':
          break
      }
    } catch (error) {
      problems.push({kind: 'object', oid, message: (error as Error).message})
    }
  }
  return {ok: problems.length === 0, objects: seen.size, problems}
}

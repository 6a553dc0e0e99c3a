/** Directory trees: flattening a tree to paths, and building trees from paths. */
import {decodeJson, encodeTree, type Tree, type TreeEntry} from './model.js'
import type {ObjectStore} from './object-store.js'
import type {Oid} from './bytes.js'

/** A file of a snapshot: its path and its tree entry (type table or file). */
export type FileMap = Map<string, TreeEntry>

export async function readTree(store: ObjectStore, oid: Oid): Promise<Tree> {
  return decodeJson<Tree>((await store.get(oid, 'tree')).content)
}

export async function flattenTree(store: ObjectStore, oid: Oid | null): Promise<FileMap> {
  const out: FileMap = new Map()
  if (!oid) return out
  const walk = async (treeOid: Oid, prefix: string): Promise<void> => {
    for (const e of (await readTree(store, treeOid)).entries) {
      const path = prefix + e.name
      if (e.type === 'dir') await walk(e.oid, `${path}/`)
      else out.set(path, {...e, name: path})
    }
  }
  await walk(oid, '')
  return out
}

/** Writes the tree objects for a set of files; returns the root tree's id. */
export async function buildTree(store: ObjectStore, files: FileMap): Promise<Oid> {
  interface Dir {
    files: TreeEntry[]
    dirs: Map<string, Dir>
  }
  const root: Dir = {files: [], dirs: new Map()}
  for (const [path, entry] of files) {
    const parts = path.split('/')
    let dir = root
    for (const part of parts.slice(0, -1)) {
      let next = dir.dirs.get(part)
      if (!next) dir.dirs.set(part, (next = {files: [], dirs: new Map()}))
      dir = next
    }
    dir.files.push({...entry, name: parts[parts.length - 1]})
  }
  const write = async (dir: Dir): Promise<{oid: Oid; size: number}> => {
    const entries: TreeEntry[] = [...dir.files]
    let size = 0
    for (const f of dir.files) size += f.size
    for (const [name, sub] of dir.dirs) {
      const w = await write(sub)
      entries.push({name, type: 'dir', oid: w.oid, size: w.size})
      size += w.size
    }
    return {oid: await store.put('tree', encodeTree({entries})), size}
  }
  return (await write(root)).oid
}

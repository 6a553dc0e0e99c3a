/**
 * The user's identity from git's own config files, read without git: only `user.name`
 * and `user.email` of the `[user]` section (no includes, no line continuations), the last
 * value winning, as git reads a file. Quoted values, escapes and comments are handled.
 */
import {readFileSync} from 'node:fs'
import {homedir} from 'node:os'
import {join} from 'node:path'

export interface GitUser {
  name?: string
  email?: string
}

/** git's global files in the order git reads them (a later one wins): XDG, then ~/.gitconfig. */
export function globalGitConfigFiles(): string[] {
  const xdg = process.env.XDG_CONFIG_HOME || join(homedir(), '.config')
  return [join(xdg, 'git', 'config'), join(homedir(), '.gitconfig')]
}

/** user.name/user.email of one config file; a missing or unreadable file has none. */
export function readGitUser(file: string): GitUser {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    return {}
  }
  return parseGitUser(text)
}

export function parseGitUser(text: string): GitUser {
  const out: GitUser = {}
  let inUser = false
  for (const raw of text.split('\n')) {
    let line = raw.trim()
    // `[user]`, `[User]`; a subsection (`[user "x"]`) or `[user.x]` is another section
    const section = /^\[\s*([^\]\s"]+)\s*("(?:[^"\\]|\\.)*")?\s*\](.*)$/.exec(line)
    if (section) {
      inUser = section[1].toLowerCase() === 'user' && section[2] === undefined
      line = section[3].trim() // git allows `[user] name = x` on one line
    }
    const entry = /^([A-Za-z][A-Za-z0-9-]*)\s*=(.*)$/.exec(line)
    if (!inUser || !entry) continue
    const key = entry[1].toLowerCase()
    if (key === 'name' || key === 'email') out[key] = configValue(entry[2])
  }
  return out
}

/** A value as git reads it: `"..."` quotes (keeping `#` and `;`), `\"`, `\\`, `\n`, `\t`; a comment ends it. */
function configValue(v: string): string {
  let out = ''
  let quoted = false
  for (let i = 0; i < v.length; i++) {
    const c = v[i]
    if (c === '"') quoted = !quoted
    else if (c === '\\') {
      const n = v[++i] ?? ''
      out += n === 'n' ? '\n' : n === 't' ? '\t' : n === 'b' ? '\b' : n
    } else if (!quoted && (c === '#' || c === ';')) break
    else out += c
  }
  return out.trim()
}

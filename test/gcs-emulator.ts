/**
 * Test helper: a real Google Cloud Storage emulator (firebase-tools' Storage emulator
 * plus our precondition layer, see tools/gcs-emulator/) in a child process.
 *
 *   before(async function () {
 *     requireGcsEmulator(this)
 *     gcs = await startGcsEmulator()
 *   })
 *   after(async () => gcs?.stop())
 *
 * Pass `gcs.env` to child processes (STORAGE_EMULATOR_HOST, GOOGLE_CLOUD_PROJECT); in
 * process use `new Storage({apiEndpoint: gcs.url, projectId: 'demo-dsv-test'})`.
 * Install once with `bash tools/gcs-emulator/install.sh` (cached).
 */
import {spawn} from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import readline from 'node:readline'
import {fileURLToPath} from 'node:url'

export const GCS_EMULATOR_PROJECT = 'demo-dsv-test'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const toolDir = path.join(repoRoot, 'tools', 'gcs-emulator')
const serverScript = path.join(toolDir, 'server.mjs')
const READY_TIMEOUT_MS = 60_000
const STOP_TIMEOUT_MS = 10_000
const STDERR_KEEP = 64 * 1024

export interface GcsEmulator {
  /** e.g. http://127.0.0.1:40123 */
  url: string
  pid: number
  /** Environment for child processes that use the emulator. */
  env: Record<string, string>
  stop(): Promise<void>
}

/** Is firebase-tools installed under tools/gcs-emulator/node_modules? */
export function gcsEmulatorInstalled(): boolean {
  return fs.existsSync(path.join(toolDir, 'node_modules', 'firebase-tools', 'lib', 'emulator', 'storage', 'index.js'))
}

/**
 * Skips the calling suite/test when the emulator is not installed, except under CI
 * (process.env.CI set), where it throws: CI must not silently skip.
 */
export function requireGcsEmulator(ctx: Mocha.Context): void {
  if (gcsEmulatorInstalled()) return
  const message = 'GCS emulator not installed: run `bash tools/gcs-emulator/install.sh`'
  if (process.env.CI) throw new Error(`${message} (CI must not skip the GCS tests)`)
  process.stderr.write(`      (skipped: ${message})\n`)
  ctx.skip()
}

/** Process groups of emulators still running, killed if this process exits first. */
const running = new Set<number>()
process.on('exit', () => {
  for (const pid of running) {
    try {
      process.kill(-pid, 'SIGTERM')
    } catch {
      // already gone
    }
  }
})

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal)
  } catch {
    // already gone
  }
}

/** Starts `node tools/gcs-emulator/server.mjs --port 0` and waits for its READY line. */
export async function startGcsEmulator(): Promise<GcsEmulator> {
  if (!gcsEmulatorInstalled()) {
    throw new Error('GCS emulator not installed: run `bash tools/gcs-emulator/install.sh`')
  }
  const env = {...process.env}
  delete env.STORAGE_EMULATOR_HOST
  const child = spawn(process.execPath, [serverScript, '--port', '0', '--project', GCS_EMULATOR_PROJECT], {
    cwd: repoRoot,
    env,
    detached: true, // own process group: stop() kills the whole group
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const pid = child.pid
  if (pid === undefined) throw new Error('could not spawn the GCS emulator')
  running.add(pid)

  let stderr = ''
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_KEEP)
  })
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      running.delete(pid)
      resolve()
    })
  })

  const url = await new Promise<string>((resolve, reject) => {
    const lines = readline.createInterface({input: child.stdout})
    const timer = setTimeout(() => {
      done()
      killGroup(pid, 'SIGKILL')
      reject(new Error(`GCS emulator not ready after ${READY_TIMEOUT_MS / 1000} s; stderr:\n${stderr}`))
    }, READY_TIMEOUT_MS)
    const onExit = (code: number | null, signal: string | null) => {
      done()
      // let the last stderr chunks arrive
      setImmediate(() =>
        reject(new Error(`GCS emulator exited before READY (code ${code}, signal ${signal}); stderr:\n${stderr}`)),
      )
    }
    const onError = (err: Error) => {
      done()
      reject(err)
    }
    function done() {
      clearTimeout(timer)
      child.off('exit', onExit)
      child.off('error', onError)
      lines.off('line', onLine)
    }
    function onLine(line: string) {
      const m = /^READY (http:\/\/\S+)$/.exec(line.trim())
      if (!m) return
      done()
      lines.close()
      resolve(m[1])
    }
    lines.on('line', onLine)
    child.once('exit', onExit)
    child.once('error', onError)
  })
  child.stdout.resume()

  // A forgotten stop() must not keep mocha alive; the 'exit' hook above still kills it.
  child.unref()
  ;(child.stdout as unknown as {unref?: () => void}).unref?.()
  ;(child.stderr as unknown as {unref?: () => void}).unref?.()

  let stopping: Promise<void> | undefined
  return {
    url,
    pid,
    env: {STORAGE_EMULATOR_HOST: url, GOOGLE_CLOUD_PROJECT: GCS_EMULATOR_PROJECT},
    stop() {
      stopping ??= (async () => {
        if (!running.has(pid)) return
        killGroup(pid, 'SIGTERM')
        let timer: NodeJS.Timeout | undefined
        const timedOut = new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), STOP_TIMEOUT_MS)
        })
        const late = await Promise.race([exited.then(() => false), timedOut])
        clearTimeout(timer)
        if (late) {
          killGroup(pid, 'SIGKILL')
          await exited
        }
      })()
      return stopping
    },
  }
}

#!/usr/bin/env node
// Test-only Google Cloud Storage server for dsv:
//   node tools/gcs-emulator/server.mjs [--port N] [--project demo-...]
//
// Starts the Cloud Storage emulator of firebase-tools (pinned in package.json next
// to this file; install with `bash tools/gcs-emulator/install.sh`) on an internal
// loopback port, and our precondition layer (precondition-layer.mjs) in front of it
// on the public port (0 = any free port). Prints exactly one line on stdout,
// `READY http://127.0.0.1:PORT`, once it can serve; logs and errors go to stderr.
// SIGTERM/SIGINT (or the parent process going away) stop it cleanly.
//
// This reaches into firebase-tools internals (lib/emulator/...), which is why the
// version is pinned exactly. The rules runtime (a Java jar it would download) is
// replaced by no-ops: the JSON API routes use the emulator's admin storage layer,
// which never evaluates security rules.
import fs from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import {createRequire} from 'node:module'
import {fileURLToPath} from 'node:url'
import {createPreconditionLayer} from './precondition-layer.mjs'

const HOST = '127.0.0.1'
const here = path.dirname(fileURLToPath(import.meta.url))

function fail(message) {
  process.stderr.write(`gcs-emulator: ${message}\n`)
  process.exit(2)
}

function parseArgs(argv) {
  const out = {port: 0, project: 'demo-dsv-test'}
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const [flag, inline] = a.includes('=') ? a.split(/=(.*)/s) : [a, undefined]
    const value = () => inline ?? argv[++i]
    if (flag === '--port') out.port = Number(value())
    else if (flag === '--project') out.project = value()
    else if (flag === '--help' || flag === '-h') {
      process.stderr.write('usage: node tools/gcs-emulator/server.mjs [--port N] [--project demo-ID]\n')
      process.exit(0)
    } else fail(`unknown argument: ${a}`)
  }
  if (!Number.isInteger(out.port) || out.port < 0 || out.port > 65535) fail('--port must be an integer in 0..65535')
  if (!/^demo-[a-z0-9-]+$/.test(out.project ?? '')) fail('--project must start with "demo-" (else the emulator calls Firebase APIs)')
  return out
}

function listen(server, port) {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, HOST, () => {
      server.off('error', reject)
      resolve(server.address().port)
    })
  })
}

async function freePort() {
  const probe = http.createServer()
  const port = await listen(probe, 0)
  await new Promise((resolve) => probe.close(resolve))
  return port
}

const args = parseArgs(process.argv.slice(2))
const debug = Boolean(process.env.DSV_GCS_EMULATOR_DEBUG)
const log = (line) => process.stderr.write(`gcs-emulator: ${line}\n`)

// Own temporary directory: the emulator keeps blobs under $TMPDIR/firebase/storage/blobs.
const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dsv-gcs-emulator-'))
process.env.TMPDIR = tmpDir

let emulator
let registry
let layer
let stopping

async function shutdown(code) {
  stopping ??= (async () => {
    const timer = setTimeout(() => {
      log('shutdown took too long; exiting')
      fs.rmSync(tmpDir, {recursive: true, force: true})
      process.exit(code || 1)
    }, 10_000)
    timer.unref()
    try {
      if (layer) {
        layer.closeAllConnections()
        await new Promise((resolve) => layer.close(() => resolve()))
      }
      if (registry && emulator) await registry.stop(emulator.getName())
    } catch (err) {
      log(`error while stopping: ${err?.stack ?? err}`)
      code ||= 1
    } finally {
      fs.rmSync(tmpDir, {recursive: true, force: true})
    }
    process.exit(code)
  })()
  return stopping
}

process.on('SIGTERM', () => void shutdown(0))
process.on('SIGINT', () => void shutdown(0))
process.on('SIGHUP', () => void shutdown(0))
process.on('uncaughtException', (err) => {
  log(`uncaught: ${err?.stack ?? err}`)
  void shutdown(1)
})
process.on('unhandledRejection', (err) => {
  log(`unhandled rejection: ${err?.stack ?? err}`)
  void shutdown(1)
})

// Exit with the parent: if the process that started us dies without stopping us
// (test runner killed), we are re-parented; stop then instead of lingering.
const parentPid = process.ppid
setInterval(() => {
  if (process.ppid !== parentPid) {
    log(`parent ${parentPid} went away; stopping`)
    void shutdown(0)
  }
}, 1000).unref()

try {
  const storageDir = path.join(here, 'node_modules', 'firebase-tools', 'lib', 'emulator', 'storage')
  if (!fs.existsSync(path.join(storageDir, 'index.js'))) {
    throw new Error('firebase-tools is not installed: run `bash tools/gcs-emulator/install.sh`')
  }
  const require = createRequire(import.meta.url)
  const pkg = require(path.join(here, 'node_modules', 'firebase-tools', 'package.json'))
  const wanted = require(path.join(here, 'package.json')).dependencies['firebase-tools']
  if (pkg.version !== wanted) {
    throw new Error(`firebase-tools ${pkg.version} is installed, ${wanted} is pinned: run \`bash tools/gcs-emulator/install.sh\``)
  }

  // Raise the emulator's keep-alive timeout (default 5 s): with connection reuse,
  // concurrent large uploads otherwise meet intermittent ECONNRESET.
  const appModule = require(path.join(storageDir, 'server.js'))
  const createApp = appModule.createApp
  appModule.createApp = async (...a) => {
    const app = await createApp(...a)
    const listenApp = app.listen.bind(app)
    app.listen = (...l) => {
      const s = listenApp(...l)
      s.keepAliveTimeout = 65_000
      s.headersTimeout = 66_000
      s.requestTimeout = 0
      s.on('error', (err) => {
        log(`emulator server error: ${err?.stack ?? err}`)
        void shutdown(1)
      })
      return s
    }
    return app
  }

  const {StorageEmulator} = require(path.join(storageDir, 'index.js'))
  ;({EmulatorRegistry: registry} = require(path.join(storageDir, '..', 'registry.js')))

  // The public side first, so its port is known before the emulator builds links.
  const internalPort = await freePort()
  layer = createPreconditionLayer({upstreamHost: HOST, upstreamPort: internalPort, log: debug ? log : undefined})
  const publicPort = await listen(layer, args.port)

  emulator = new StorageEmulator({projectId: args.project, host: HOST, port: internalPort, rules: [], auto_download: false})
  emulator._rulesRuntime.start = async () => {}
  emulator._rulesRuntime.stop = async () => {}
  await registry.start(emulator)
  // selfLink / mediaLink in object metadata point at the public (layer) port.
  const getInfo = emulator.getInfo.bind(emulator)
  emulator.getInfo = () => ({...getInfo(), port: publicPort})

  process.stdout.write(`READY http://${HOST}:${publicPort}\n`)
  if (debug) log(`emulator on ${HOST}:${internalPort}, layer on ${HOST}:${publicPort}, TMPDIR ${tmpDir}`)
} catch (err) {
  log(`failed to start: ${err?.stack ?? err}`)
  await shutdown(1)
}

/**
 * An unknown command (`dsv frob`). oclif prints its error on stderr only; with --json the
 * contract promises one JSON document on stdout, errors included, so it is printed here.
 */
import {Errors, type Hook} from '@oclif/core'

const hook: Hook.CommandNotFound = async function ({id, argv}) {
  const message = `command ${id.replaceAll(':', ' ')} not found`
  const args = argv ?? []
  const end = args.indexOf('--')
  if (!(end < 0 ? args : args.slice(0, end)).includes('--json')) throw new Errors.CLIError(message) // as oclif says it, exit 2
  process.stdout.write(`${JSON.stringify({error: {code: 'E_USAGE', message, hint: 'see `dsv --help` for the commands'}})}\n`)
  process.exitCode = 2
}

export default hook

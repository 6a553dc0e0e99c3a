/**
 * The base of every dsv command: `--json` (one JSON document on stdout, errors included),
 * `--quiet`, error formatting and exit codes, progress, and opening the repository.
 */
import {Command, Flags, Interfaces} from '@oclif/core'
import {Repository} from './core/repository.js'
import {DsvError, ioError} from './errors/index.js'
import {progressReporter, type ProgressReporter} from './ui/progress.js'
import {printable} from './ui/format.js'

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof DsvCommand)['baseFlags'] & T['flags']>

export abstract class DsvCommand extends Command {
  static override enableJsonFlag = true
  static override baseFlags = {
    quiet: Flags.boolean({char: 'q', summary: 'Print nothing but errors.', helpGroup: 'GLOBAL'}),
    'no-progress': Flags.boolean({summary: 'Do not show progress on the terminal.', helpGroup: 'GLOBAL'}),
  }

  private repo?: Repository
  private reporter?: ProgressReporter

  protected async openRepo(): Promise<Repository> {
    this.repo ??= await Repository.open(process.cwd())
    return this.repo
  }

  protected progress(): ProgressReporter {
    const quiet = this.quiet() || this.argv.includes('--no-progress')
    this.reporter ??= progressReporter(!quiet && !this.jsonEnabled())
    return this.reporter
  }

  /**
   * Revisions before `--` and paths after it, as git takes them. `parsed` is oclif's argv
   * (non-flag arguments, `--` removed) of a command with `strict = false`.
   */
  protected revisionsAndPaths(parsed: string[]): {revisions: string[]; paths: string[]} {
    const sep = this.argv.indexOf('--')
    if (sep < 0) return {revisions: parsed, paths: []}
    const paths = this.argv.slice(sep + 1)
    return {revisions: parsed.slice(0, parsed.length - paths.length), paths}
  }

  /** --quiet or -q, also inside grouped short flags (`-qm "message"`), before any `--`. */
  private quiet(): boolean {
    const end = this.argv.indexOf('--')
    return (end < 0 ? this.argv : this.argv.slice(0, end)).some((a) => a === '--quiet' || /^-[A-Za-z]*q[A-Za-z]*$/.test(a))
  }

  /** Human output: suppressed by --quiet and --json. */
  protected say(text = ''): void {
    if (this.jsonEnabled() || this.quiet()) return
    this.log(text)
  }

  /**
   * One JSON document on stdout: indented on a terminal, compact otherwise (a script's
   * pipe or file: a 1M-example diff's document is 40% smaller and written 0.2 s sooner).
   * oclif's default tokenises the document to colour it, which costs seconds and hundreds
   * of MB on a large diff.
   */
  override logJson(json: unknown): void {
    // two writes: appending the newline would build a large rope to flatten
    process.stdout.write(JSON.stringify(json, null, process.stdout.isTTY ? 2 : undefined))
    process.stdout.write('\n')
  }

  protected override async catch(err: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<unknown> {
    this.reporter?.done()
    let payload: Record<string, unknown>
    let exitCode: number
    let io: DsvError | undefined
    if (err instanceof DsvError) {
      payload = err.toJSON()
      exitCode = err.exitCode
    } else if (err.oclif?.exit !== undefined || err.name === 'CLIError' || /Parse|Flag|Arg/i.test(err.constructor?.name ?? '')) {
      if (err.oclif?.exit === 0) return
      // oclif's parse errors run on over lines ("...\nSee more help with --help"): the first is the error, the rest a hint
      const [first, ...more] = String(err.message).split('\n').map((l: string) => l.trim()).filter(Boolean)
      payload = {code: 'E_USAGE', message: first ?? 'bad usage', ...(more.length ? {hint: more.join(' ')} : {})}
      exitCode = err.oclif?.exit ?? 2
    } else if ((io = ioError(err))) {
      payload = io.toJSON()
      exitCode = io.exitCode
    } else {
      payload = {code: 'E_INTERNAL', message: err.message, stack: err.stack}
      exitCode = 70
    }
    if (this.jsonEnabled()) this.logJson({error: payload})
    else {
      // messages quote names and values from data: one line each, no escape sequence or
      // newline of theirs reaches the terminal (a file name must not forge a hint line)
      process.stderr.write(`error: ${printable(String(payload.message))}\n`)
      if (payload.hint) process.stderr.write(`hint: ${printable(String(payload.hint))}\n`)
      if (payload.code === 'E_INTERNAL' && process.env.DSV_DEBUG) process.stderr.write(`${payload.stack}\n`)
    }
    process.exitCode = exitCode
    return undefined
  }

  protected override async finally(err: Error | undefined): Promise<unknown> {
    this.reporter?.done()
    // damaged refs a listing skipped (fsck reports them as problems instead)
    for (const b of this.repo?.refs.takeBroken() ?? []) process.stderr.write(`warning: ignoring broken ref ${printable(b.ref)}: ${printable(b.message)}\n`)
    await this.repo?.close()
    return super.finally(err)
  }
}

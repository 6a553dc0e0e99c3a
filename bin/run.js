#!/usr/bin/env node
import module from 'node:module'

// Node 22.1+ keeps compiled code between runs (a faster start); older Node has no such cache
module.enableCompileCache?.()

const {execute} = await import('@oclif/core')
await execute({dir: import.meta.url})

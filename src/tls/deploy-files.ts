import {existsSync} from 'node:fs'
import {readFile, rm} from 'node:fs/promises'
import {join} from 'node:path'

import {backUp} from '../apply/backups.js'
import type {Inventory} from '../inventory/schema.js'
import {relaydKeypair} from '../relayd/keypair.js'
import {atomicWrite} from '../system/atomic-write.js'
import {sha256} from '../system/sha256.js'
import type {DeployMaterial} from './deploy-material.js'

/** One file the proxy loads, what it will hold, and what it holds now (undefined: not there). */
export interface InstalledFile {
  new: string
  old?: string
  path: string
  /** Holds a private key: a new file is created 0600 (an existing one keeps its mode). */
  secret: boolean
}

/**
 * The files the target reads, in the order they are installed: HAProxy's `crt` with the key in
 * it (one file: a reload never sees half a swap) or in `<crt>.key`; relayd's keypair named
 * after the domain (`NAME:PORT.crt` when that form is there, else `NAME.crt`, key in private/).
 */
export async function targetFiles(inventory: Inventory, target: 'haproxy' | 'relayd', material: DeployMaterial, sslDir?: string): Promise<InstalledFile[]> {
  let files: Array<Omit<InstalledFile, 'old'>>
  if (target === 'relayd') {
    const keypair = relaydKeypair(inventory.domain, inventory.proxy.listen.httpsPort, existsSync, sslDir)
    files = [
      {new: material.key, path: keypair.key, secret: true},
      {new: material.chain, path: keypair.certificate, secret: false},
    ]
  } else {
    const {certificate, key} = inventory.proxy.tls
    files =
      key === certificate
        ? [{new: material.chain + material.key, path: certificate, secret: true}]
        : [
            {new: material.key, path: `${certificate}.key`, secret: true},
            {new: material.chain, path: certificate, secret: false},
          ]
  }

  return Promise.all(files.map(async (f) => ({...f, old: await readFile(f.path, 'utf8').catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? undefined : Promise.reject(error)))})))
}

/** Copies of the files being replaced, 0600 (they hold the key), the newest `keep` of each kept. */
export async function backUpFiles(files: InstalledFile[], folder: string, keep: number, now: Date): Promise<string[]> {
  const copies = await Promise.all(files.map((f) => backUp(f.path, f.old, folder, keep, now, 0o600)))
  return copies.filter((c) => c !== undefined)
}

/** Installs each file atomically (temp file beside it, fsync, rename; owner and mode kept). */
export async function installFiles(files: InstalledFile[]): Promise<void> {
  for (const f of files) await atomicWrite(f.path, f.new, f.secret ? 0o600 : 0o644)
}

/**
 * Puts back what was there (the reverse order of installing), going on past a file that fails so
 * that as much as can be is back; returns why each failed file was not written, by path. A file
 * that was not there before is removed again.
 */
export async function restoreFiles(files: InstalledFile[]): Promise<Map<string, string>> {
  const failed = new Map<string, string>()
  for (const f of [...files].reverse()) {
    const restore = f.old === undefined ? rm(f.path, {force: true}) : atomicWrite(f.path, f.old)
    await restore.catch((error: Error) => failed.set(f.path, error.message))
  }

  return failed
}

/**
 * After a restore: each file read back from disk, its sha256 compared with that of the bytes it
 * held before the install (the ones backed up), so a write that did not land or a change made
 * since shows. Returns what is not back, and why.
 */
export async function filesNotBack(files: InstalledFile[], failed: Map<string, string>): Promise<string[]> {
  const problems = await Promise.all(
    files.map(async (f) => {
      if (failed.has(f.path)) return `${f.path}: not put back (${failed.get(f.path)})`
      const now = await readFile(f.path).catch((error: NodeJS.ErrnoException) => error)
      if (f.old === undefined) return now instanceof Error && now.code === 'ENOENT' ? undefined : `${f.path}: was not there before, and is now`
      if (now instanceof Error) return `${f.path}: not readable after the restore (${now.message})`
      const [was, is] = [sha256(f.old), sha256(now)]
      if (was === is) return undefined
      return `${f.path}: holds other bytes than before the install (sha256 ${is.slice(0, 12)}…, not ${was.slice(0, 12)}…)`
    }),
  )
  return problems.filter((p) => p !== undefined)
}

/** Where `tls deploy` keeps copies of the replaced pair. */
export const backupFolder = (applyDir: string) => join(applyDir, 'backups', 'tls')

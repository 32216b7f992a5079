import type {KeyObject, X509Certificate} from 'node:crypto'
import {existsSync} from 'node:fs'
import {readFile, stat} from 'node:fs/promises'

import type {Inventory} from '../inventory/schema.js'
import {chainExpiry, commonName, type ExpiryThresholds, nameFinding, summarize} from './certificate.js'
import {checkChain} from './chain.js'
import type {CertificateReport, TlsFinding} from './model.js'
import {readPem} from './pem.js'
import {relaydKeypair} from '../relayd/keypair.js'

export interface TlsFileOptions {
  inventory: Inventory
  /** Names the certificate must cover: the public domain and any the admin adds. */
  names: string[]
  now: Date
  /** Which proxy's files: HAProxy's `crt` (proxy.tls) or relayd's keypair files. */
  target: 'haproxy' | 'relayd'
  thresholds: ExpiryThresholds
  trust: X509Certificate[]
  /** Where relayd looks for keypairs (/etc/ssl; tests use a folder of their own). */
  sslDir?: string
}

/** The certificate and key files the target's proxy will load, and how it found them. */
function filesToCheck(options: TlsFileOptions, findings: TlsFinding[]): {certificate: string; key?: string} {
  const {inventory} = options
  if (options.target === 'relayd') {
    const keypair = relaydKeypair(inventory.domain, inventory.proxy.listen.httpsPort, existsSync, options.sslDir)
    findings.push({message: `relayd reads keypair "${inventory.domain}" from here (it tries ${keypair.tried.join(', then ')}) with the key ${keypair.key}`, severity: 'ok', source: keypair.certificate})
    return {certificate: keypair.certificate, key: keypair.key}
  }

  // HAProxy's `crt` file holds the key too, or HAProxy loads it from `<crt>.key`.
  const {certificate, key} = inventory.proxy.tls
  if (key !== certificate && key !== `${certificate}.key`) {
    findings.push({message: `HAProxy reads the key from ${certificate} or ${certificate}.key, not ${key}`, severity: 'critical', source: key})
  }

  return {certificate, key: key === certificate ? undefined : `${certificate}.key`}
}

async function readText(path: string, findings: TlsFinding[]): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8')
  } catch (error) {
    findings.push({message: `cannot read: ${(error as Error).message}`, severity: 'critical', source: path})
    return undefined
  }
}

/**
 * The file checks of `jproxy validate tls`: the chain and key the proxy will load parse, the key
 * belongs to the first certificate, the names are covered, the chain is in order and reaches a
 * trusted root, every certificate is within its validity, and the key is not readable by every user.
 */
export async function checkTlsFiles(options: TlsFileOptions): Promise<{certificates: CertificateReport[]; findings: TlsFinding[]}> {
  const findings: TlsFinding[] = []
  const files = filesToCheck(options, findings)
  const checked = await checkKeypairFiles({...files, keyApart: options.target === 'relayd'}, options)
  return {certificates: checked.certificates, findings: [...findings, ...checked.findings]}
}

/** A certificate file and where its key is: in it, or apart (`keyApart`: always read from `key`; else only when the certificate file has none). */
export interface KeypairFiles {
  certificate: string
  key?: string
  keyApart: boolean
}

/** The checks of checkTlsFiles on any pair of files (`jproxy tls deploy` runs them on the new ones). */
export async function checkKeypairFiles(
  files: KeypairFiles,
  options: Pick<TlsFileOptions, 'names' | 'now' | 'thresholds' | 'trust'>,
): Promise<{certificates: CertificateReport[]; findings: TlsFinding[]}> {
  const findings: TlsFinding[] = []
  const text = await readText(files.certificate, findings)
  if (text === undefined) return {certificates: [], findings}

  const at = (source: string) => (f: {message: string; severity: TlsFinding['severity']}) => findings.push({...f, source})
  let pem: ReturnType<typeof readPem>
  try {
    pem = readPem(text)
  } catch (error) {
    at(files.certificate)({message: (error as Error).message, severity: 'critical'})
    return {certificates: [], findings}
  }

  for (const problem of pem.problems) at(files.certificate)({message: problem, severity: 'critical'})
  const certificates = pem.certificates.map((c) => c.certificate)
  if (certificates.length === 0) {
    at(files.certificate)({message: 'no CERTIFICATE block', severity: 'critical'})
    return {certificates: [], findings}
  }

  // The key: in the certificate file (HAProxy's usual bundle) or in its own file.
  let keys = pem.keys
  let keySource = files.certificate
  if (files.key !== undefined && (keys.length === 0 || files.keyApart)) {
    keySource = files.key
    const keyText = await readText(files.key, findings)
    if (keyText !== undefined) {
      try {
        const keyPem = readPem(keyText)
        for (const problem of keyPem.problems) at(files.key)({message: problem, severity: 'critical'})
        keys = keyPem.keys
        if (keys.length === 0 && keyPem.problems.length === 0) at(files.key)({message: 'no private key', severity: 'critical'})
      } catch (error) {
        at(files.key)({message: (error as Error).message, severity: 'critical'})
      }
    }
  } else if (keys.length === 0 && pem.problems.length === 0) {
    at(files.certificate)({message: 'no private key in the file, and HAProxy finds none beside it', severity: 'critical'})
  }

  if (keys.length > 1) at(keySource)({message: `${keys.length} private keys; the proxy uses one`, severity: 'warning'})
  if (keys.length > 0) {
    at(keySource)(keyFinding(keys[0], certificates, files.certificate))
    await modeFinding(keySource, findings)
  }

  for (const name of options.names) at(files.certificate)(nameFinding(certificates[0], name))
  for (const f of checkChain(certificates, options.trust)) at(files.certificate)(f)
  for (const f of chainExpiry(certificates, options.now, options.thresholds)) at(files.certificate)(f)

  return {certificates: certificates.map((c, i) => ({...summarize(c), position: i + 1, source: files.certificate})), findings}
}

function keyFinding({key, line}: {key: KeyObject; line: number}, certificates: X509Certificate[], certificateFile: string): Omit<TlsFinding, 'source'> {
  const matches = (c: X509Certificate) => {
    try {
      return c.checkPrivateKey(key)
    } catch {
      return false
    }
  }

  const bits = key.asymmetricKeyDetails?.modulusLength
  if (matches(certificates[0])) {
    if (key.asymmetricKeyType === 'rsa' && bits !== undefined && bits < 2048) return {message: `the key (line ${line}) matches, but RSA ${bits} bits is too weak; clients reject keys under 2048 bits`, severity: 'critical'}
    return {message: `the key (line ${line}, ${key.asymmetricKeyType}${bits ? ` ${bits}` : ''}) belongs to the certificate`, severity: 'ok'}
  }

  const owner = certificates.findIndex((c) => matches(c))
  return owner > 0
    ? {message: `the key (line ${line}) belongs to certificate #${owner + 1} of ${certificateFile}; the server's own certificate must come first`, severity: 'critical'}
    : {message: `the key (line ${line}) does not belong to the certificate "${commonName(certificates[0].subject)}" in ${certificateFile}: the proxy will not start`, severity: 'critical'}
}

async function modeFinding(path: string, findings: TlsFinding[]): Promise<void> {
  const mode = await stat(path).then(
    (s) => s.mode & 0o777,
    () => undefined,
  )
  if (mode !== undefined && (mode & 0o007) !== 0) {
    findings.push({message: `mode ${mode.toString(8).padStart(4, '0')}: every user on the machine can read the private key (want 0600, or 0640 with the proxy's group)`, severity: 'warning', source: path})
  }
}

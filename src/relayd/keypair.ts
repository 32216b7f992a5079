import {join} from 'node:path'

/** The files relayd reads for a keypair, and the ones it tried first. */
export interface RelaydKeypair {
  certificate: string
  key: string
  /** The certificate paths tried, in relayd's order. */
  tried: string[]
}

/**
 * relayd's relay_load_certfiles: `NAME:PORT.crt` in /etc/ssl, else `NAME.crt`; the key then
 * comes from /etc/ssl/private with the same form (`NAME:PORT.key` only with `NAME:PORT.crt`).
 * `exists` decides which certificate relayd would open; none found → the plain names.
 */
export function relaydKeypair(name: string, port: number, exists: (path: string) => boolean, sslDir = '/etc/ssl'): RelaydKeypair {
  const withPort = join(sslDir, `${name}:${port}.crt`)
  const plain = join(sslDir, `${name}.crt`)
  const stem = exists(withPort) ? `${name}:${port}` : name
  return {certificate: join(sslDir, `${stem}.crt`), key: join(sslDir, 'private', `${stem}.key`), tried: [withPort, plain]}
}

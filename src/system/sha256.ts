import {createHash} from 'node:crypto'

/** The hex sha256 of text or bytes: how jproxy names a config, an inventory or a certificate by content. */
export const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex')

// Persistence in one place: small binary records in the runtime's settings store
// (an append-only log in a 16 KiB flash region, compacted A/B when full).
//
// Limits that shape every record (see docs/architecture.md):
// - keys are at most 13 characters;
// - key length + 1 + value bytes must not exceed 232, otherwise the write "succeeds"
//   and the later read aborts the VM — so writes above the limit are refused here;
// - each write costs a 24-byte entry header (holding the key) plus the value rounded up
//   to 8 bytes; a delete, a header.
// Every record ends with a CRC-16 so a torn or corrupt value reads as missing, never as
// garbage. A write is a command to the settings service that it carries out later: each
// write is read back before it counts as done, so nothing is acknowledged (to the central
// system, to the journal) before it is in flash. Callers write only when a value changed
// (flash wear).
import * as ds from "@devicescript/core"

const settings = new ds.Settings()
const MAX_ENTRY_BYTES = 232
const CRC_BYTES = 2

/** Largest payload storeWrite accepts for a key. */
export function storeCapacity(key: string) {
    return MAX_ENTRY_BYTES - key.length - 1 - CRC_BYTES
}

/** CRC-16/CCITT-FALSE of buf[0..len). */
export function crc16(buf: Buffer, len: number) {
    let crc = 0xffff
    for (let i = 0; i < len; i++) {
        crc ^= buf[i] << 8
        for (let b = 0; b < 8; b++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff
    }
    return crc
}

/** Counters for the flash-wear figures in the benchmark. */
export const storeStats = { writes: 0, bytes: 0, corrupt: 0 }
/** Called when a record fails its check (diagnostic / security event). */
export let onCorruptRecord: (key: string) => void

export function storeOnCorrupt(handler: (key: string) => void) {
    onCorruptRecord = handler
}

async function rawGet(key: string): Promise<Buffer> {
    const pkt = await ds.actionReport(
        settings,
        "get",
        async () => await settings.get(key),
        pkt => pkt.decode()[0] === key
    )
    return pkt.decode()[1] as Buffer
}

/** Read a plain JSON setting (as written by `devs deploy` from .env files); undefined if absent. */
export async function storeReadJson(key: string): Promise<any> {
    const b = await rawGet(key)
    if (!b || !b.length) return undefined
    try {
        return JSON.parse(b.toString("utf-8"))
    } catch {
        return undefined
    }
}

/**
 * Read a record.
 * @returns its payload, or undefined when missing or corrupt
 */
export async function storeRead(key: string): Promise<Buffer> {
    const b = await rawGet(key)
    if (!b || !b.length) return undefined
    const n = b.length - CRC_BYTES
    if (n < 0 || crc16(b, n) !== ((b[n] << 8) | b[n + 1])) {
        storeStats.corrupt++
        if (onCorruptRecord) onCorruptRecord(key)
        return undefined
    }
    return b.slice(0, n)
}

/**
 * Write a record and read it back.
 * @throws RangeError above storeCapacity(key); Error when the flash did not take it
 */
export async function storeWrite(key: string, payload: Buffer) {
    const n = payload.length
    if (key.length > 13 || n > storeCapacity(key)) throw new RangeError("record too large: " + key)
    const rec = Buffer.alloc(n + CRC_BYTES)
    rec.blitAt(0, payload, 0, n)
    const crc = crc16(rec, n)
    rec[n] = crc >> 8
    rec[n + 1] = crc & 255
    await settings.set(key, rec)
    storeStats.writes++
    // measured in the simulator: a 24-byte entry header (the key is in it) + the value rounded to 8
    storeStats.bytes += 24 + ((rec.length + 7) & ~7)
    const back = await rawGet(key)
    if (!back || back.toString("hex") !== rec.toString("hex")) throw new Error("flash write failed: " + key)
}

/** Write raw bytes without a CRC (tests use it to stand for a torn write). */
export async function storeWriteRaw(key: string, bytes: Buffer) {
    await settings.set(key, bytes)
}

export async function storeDelete(key: string) {
    await settings.delete(key)
    storeStats.writes++
    storeStats.bytes += 24
    // the read-back is the barrier: the delete has been carried out once it answers
    await rawGet(key)
}

/** Text helpers for records that hold a string. */
export async function storeReadText(key: string) {
    const b = await storeRead(key)
    return b ? b.toString("utf-8") : undefined
}

export async function storeWriteText(key: string, text: string) {
    await storeWrite(key, Buffer.from(text))
}

// Transaction journal: the charge point's transaction messages (StartTransaction,
// MeterValues, StopTransaction) as a FIFO of binary flash records, written before they
// are sent and deleted only after the central system answered them.
//
// Records are "j" + sequence (u16, wrapping); records are deleted only at the head, so
// the live ones are contiguous. The head is written to a pointer record ("jq") only every
// HEAD_WRITE_EVERY deletions: at boot the first live record lies within that window of
// the stored head, and the tail is found by probing, so a power cut between a record and
// the pointer never loses or repeats a record.
//
// Flash is shared with everything else: the settings region is 16 KiB on the ESP32 and
// 8 KiB in the simulator (128 KiB flash), measured: an entry takes a 24-byte header
// (the key is in it) plus the value rounded up to 8 bytes. The journal admits records by
// the bytes they occupy:
// - sampled values while the journal is below a quarter of the region (thinned first);
// - clock-aligned values below 5/8 of it (the rest is configuration, list, cache);
// - StartTransaction/StopTransaction up to 3/4 of it — beyond, or when the write fails,
//   the caller raises the seed's "offline storage error" (fault bit 0x8000). The last
//   quarter stays free for configuration, the local list, and the deletes that drain the
//   journal: a region full of live records could not even take a delete (measured).
import * as ds from "@devicescript/core"
import { storeRead, storeWrite, storeDelete } from "../store/store"

export const enum Kind {
    Start = 1,
    Meter = 2,
    Stop = 3,
}

/** Admission priority of a record: sampled values go first when flash runs short. */
export const enum Priority {
    Sampled = 0,
    Aligned = 1,
    Essential = 2,
}

/** The settings region the limits are eighths of (tests set other sizes). */
export let journalRegionBytes = ds.isSimulator() ? 8192 : 16384

/** Tests: another region size and slot count (only with an empty journal). */
export function journalSetRegion(bytes: number, slots: number) {
    journalRegionBytes = bytes
    journalSlots = slots
}

/**
 * Admission limit of a priority, bytes: sampled 2/8, aligned 5/8, Start/Stop 6/8 of the
 * region less what the slots' tombstones may take.
 */
export function journalLimit(priority: Priority) {
    return ((journalRegionBytes - journalSlots * 32) * (priority === Priority.Sampled ? 2 : priority === Priority.Aligned ? 5 : 6)) >> 3
}
/** Write the head pointer after this many deletions (bounds the boot-time scan). */
const HEAD_WRITE_EVERY = 16
const SEQ_MASK = 0xffff

let head = 0
let tail = 0
let deletedSincePointer = 0
/** Record being delivered (read by journalHead until dropped), and one being extended. */
let inFlight = -1
let extending = -1
/** Flash bytes the live records occupy (entry header + key + value + CRC, rounded). */
export let journalBytes = 0
let sizes: number[] = []

/**
 * Record keys cycle through journalSlots names: a deleted setting leaves a tombstone
 * entry that compaction keeps (measured: 252 distinct keys written and deleted fill the
 * simulator's 8 KiB region), so an ever-new key per record would fill the flash with
 * tombstones; a ring of slots costs at most 32 B per slot for good. At most
 * slots − HEAD_WRITE_EVERY − 1 records are live, so the boot scan's window never meets a
 * slot reused by a later record.
 */
export let journalSlots = ds.isSimulator() ? 64 : 128

function key(seq: number) {
    return "j" + (seq & (journalSlots - 1))
}

/** Records the journal may hold: all kinds below the first figure, Start/Stop below the second. */
function maxRecords(priority: Priority) {
    return journalSlots - HEAD_WRITE_EVERY - (priority === Priority.Essential ? 1 : 9)
}

/** Bytes a record of `payloadBytes` (CRC added) takes in the settings region. */
export function entryBytes(payloadBytes: number) {
    return 24 + ((payloadBytes + 2 + 7) & ~7)
}

async function writePointer() {
    const b = Buffer.alloc(2)
    b.setAt(0, "u16", head)
    await storeWrite("jq", b)
    deletedSincePointer = 0
}

/** Number of records waiting. */
export function journalCount() {
    return (tail - head) & SEQ_MASK
}

/** Sequence number the next appended record gets (the local id of a StartTransaction). */
export function journalNextSeq() {
    return tail
}

/** Find head and tail after a boot. */
export async function journalLoad() {
    const p = await storeRead("jq")
    const stored = p && p.length === 2 ? p.getAt(0, "u16") : 0
    // up to HEAD_WRITE_EVERY records may have been deleted after the pointer was written;
    // none live there: the journal is empty, and the next sequence numbers start past every
    // one that may have been used (local transaction ids are never reused)
    head = tail = (stored + HEAD_WRITE_EVERY + 1) & SEQ_MASK
    for (let k = 0; k <= HEAD_WRITE_EVERY; k++) {
        const s = (stored + k) & SEQ_MASK
        if (await storeRead(key(s))) {
            head = tail = s
            break
        }
    }
    let n = 0
    while (n++ < maxRecords(Priority.Essential) && (await storeRead(key(tail)))) tail = (tail + 1) & SEQ_MASK
    // the window starts again here: a second cut before 16 more deletions must still find
    // the head (found by the soak: two cuts during a replay lost a StopTransaction)
    if (head !== stored) {
        try {
            await writePointer()
        } catch (e) {
            // a full region: the scan window still covers the next 16 deletions
        }
    }
    sizes = []
    journalBytes = 0
    for (let s = head; s !== tail; s = (s + 1) & SEQ_MASK) {
        const r = await storeRead(key(s))
        const bytes = r ? entryBytes(r.length) : 0
        sizes.push(bytes)
        journalBytes += bytes
    }
}

/**
 * Append a record unless flash is too short for its priority.
 * @returns its sequence number, or -1 when it was thinned out
 * @throws when the flash write failed (the caller raises the storage fault)
 */
export async function journalAppend(rec: Buffer, priority: Priority): Promise<number> {
    const seq = tail
    const bytes = entryBytes(rec.length)
    if (journalBytes + bytes > journalLimit(priority) || journalCount() >= maxRecords(priority)) {
        if (priority !== Priority.Essential) return -1
        throw new Error("journal full")
    }
    await storeWrite(key(seq), rec)
    tail = (seq + 1) & SEQ_MASK
    sizes.push(bytes)
    journalBytes += bytes
    return seq
}

/**
 * The oldest record, now in flight until dropped; undefined when empty or while it is
 * being extended. A corrupt record reads as an empty buffer.
 */
export async function journalHead(): Promise<Buffer> {
    if (head === tail || head === extending) return undefined
    inFlight = head
    return (await storeRead(key(head))) || Buffer.alloc(0)
}

/**
 * Replace the newest record by `rec` (the same record with more samples), unless it is
 * the one being delivered. Packing samples this way saves the 24-byte entry header and
 * the key of every sample.
 * @returns false when it cannot (append instead)
 */
export async function journalExtendTail(rec: Buffer, priority: Priority): Promise<boolean> {
    const seq = (tail - 1) & SEQ_MASK
    const last = sizes.length - 1
    const bytes = entryBytes(rec.length)
    if (journalCount() < 2 || seq === inFlight || journalBytes - sizes[last] + bytes > journalLimit(priority)) return false
    extending = seq
    try {
        await storeWrite(key(seq), rec)
    } finally {
        extending = -1
    }
    journalBytes += bytes - sizes[last]
    sizes[last] = bytes
    return true
}

export function journalHeadSeq() {
    return head
}

/** Remove the oldest record (its answer arrived, or it was given up). */
export async function journalDrop() {
    if (head === tail) return
    await storeDelete(key(head))
    inFlight = -1
    head = (head + 1) & SEQ_MASK
    journalBytes -= sizes[0] || 0
    sizes = sizes.slice(1)
    if (++deletedSincePointer >= HEAD_WRITE_EVERY) await writePointer()
}

/** Read any record still in the journal by sequence (boot-time checks). */
export async function journalRead(seq: number) {
    return await storeRead(key(seq))
}

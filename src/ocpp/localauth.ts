// OCPP 1.6 Local Auth List Management (§3.5.1, §5.8 GetLocalListVersion, §5.15
// SendLocalList), the authorisation cache (§3.5.2, ClearCache) and the one local lookup the
// authorisation paths use: list before cache (§3.5.3).
//
// Both live in flash only, not in the heap, as a "table": one text of entries
//   \x01 TAG \x02 S EXPIRY \x02 PARENT \x01 TAG ...
// (TAG upper-cased: idTags are case-insensitive; S the status's first letter; EXPIRY epoch
// seconds or nothing), cut into records in one of two banks. A header record written last
// names the bank, the record count and (list) the version, so a power cut leaves the old
// table or the new one whole. Layout and limits: docs/storage.md.
import * as ds from "@devicescript/core"
import { storeRead, storeReadText, storeWrite, storeWriteText, storeDelete, storeCapacity } from "../store/store"
import { configBool, configInt } from "../store/config"
import { parseIso8601 } from "../util/iso8601"

const LIST = "l"
const CACHE = "k"
/** Entries of the cache: a new one replaces the least recently used. */
export const CACHE_ENTRIES = 8
/** Records per bank (one digit in the header): 9 × 226 B, twice an ASCII list of 16 at its longest. */
const MAX_RECORDS = 9
const SEP = "\u0001"
const FIELD = "\u0002"
/** Statuses by first letter (all different). */
const STATUSES = "Accepted Blocked ConcurrentTx Expired Invalid "

/** Header of each table as stored: bank letter, record count digit, list version. */
const head: any = {}
/** Every table access holds this: fibers interleave at each flash access. */
let busy = false

async function lock() {
    while (busy) await ds.sleep(5)
    busy = true
}

function records(t: string) {
    return head[t] ? head[t].charCodeAt(1) - 48 : 0
}

/** Version of the list; an empty list has version 0 (§5.8, TC_042_2). */
function listVersion() {
    return parseInt((head[LIST] || "").slice(2)) || 0
}

/** The text of a table; a missing or corrupt record leaves it empty (the store reports it). */
async function tableRead(t: string): Promise<string> {
    const parts: Buffer[] = []
    for (let i = 0; i < records(t); i++) {
        const b = await storeRead(t + head[t][0] + i)
        if (!b) {
            // keep the bank letter, so that the next write goes to the other bank
            head[t] = head[t][0] + "0"
            return SEP
        }
        parts.push(b)
    }
    return parts.length ? Buffer.concat(...parts).toString("utf-8") : SEP
}

/** Write a table into the bank not in use, then the header (the switch), then free the old bank. */
async function tableWrite(t: string, text: string, version: string) {
    const bytes = Buffer.from(text)
    const oldBank = (head[t] || "b")[0]
    const oldRecords = records(t)
    const bank = oldBank === "a" ? "b" : "a"
    const cap = storeCapacity(t + "a0")
    const n = text === SEP ? 0 : Math.ceil(bytes.length / cap)
    if (n > MAX_RECORDS) throw new RangeError("table too large")
    for (let i = 0; i < n; i++) await storeWrite(t + bank + i, bytes.slice(i * cap, Math.min(bytes.length, (i + 1) * cap)))
    await storeWriteText(t + "h", bank + n + version)
    head[t] = bank + n + version
    for (let i = 0; i < oldRecords; i++) await storeDelete(t + oldBank + i)
}

/** `text` without the entry of `tag`. */
function without(text: string, tag: string) {
    const at = text.indexOf(SEP + tag + FIELD)
    return at < 0 ? text : text.slice(0, at) + text.slice(text.indexOf(SEP, at + 1))
}

/** Index of the separator that ends the n-th entry; -1 when there are fewer entries. */
function entryEnd(text: string, n: number) {
    let at = 0
    while (n-- > 0 && at >= 0) at = text.indexOf(SEP, at + 1)
    return at
}

function entryOf(tag: string, info: any) {
    const expiry = info.expiryDate ? Math.floor(parseIso8601(info.expiryDate) / 1000) : ""
    return tag + FIELD + info.status[0] + expiry + FIELD + (info.parentIdTag || "") + SEP
}

/** {status, parentIdTag?} of `tag` in a table that is enabled, Expired once past its expiry; else undefined. */
async function lookup(t: string, tag: string, nowS: number): Promise<any> {
    if (!configBool(t === LIST ? "LocalAuthListEnabled" : "AuthorizationCacheEnabled")) return undefined
    const text = await tableRead(t)
    const at = text.indexOf(SEP + tag + FIELD)
    if (at < 0) return undefined
    const s = at + tag.length + 2
    const f = text.indexOf(FIELD, s)
    const end = text.indexOf(SEP, f)
    const expiry = text.slice(s + 1, f)
    const i = STATUSES.indexOf(text[s])
    const info: any = { status: expiry && parseInt(expiry) <= nowS ? "Expired" : STATUSES.slice(i, STATUSES.indexOf(" ", i)) }
    if (end > f + 1) info.parentIdTag = text.slice(f + 1, end)
    return info
}

/**
 * What the charge point knows of an idTag without asking: the local list's entry, else the
 * cache's (each only while enabled), as {status, parentIdTag?} with status "Expired" once
 * the entry's expiryDate is past `nowEpochS`; undefined when neither has it.
 */
export async function authLocalLookup(idTag: string, nowEpochS: number): Promise<any> {
    await lock()
    try {
        const tag = idTag.toUpperCase()
        return (await lookup(LIST, tag, nowEpochS)) || (await lookup(CACHE, tag, nowEpochS))
    } finally {
        busy = false
    }
}

/**
 * Cache the idTagInfo the central system returned for an idTag (Authorize.conf,
 * StartTransaction.conf, StopTransaction.conf), when AuthorizationCacheEnabled. The entry
 * becomes the most recent; flash is written only when the cache changes.
 */
export async function authCacheUpdate(idTag: string, idTagInfo: any) {
    // ConcurrentTx says something of a transaction, not of the idTag
    if (!configBool("AuthorizationCacheEnabled") || !idTagInfo || idTagInfo.status === "ConcurrentTx") return
    await lock()
    try {
        const tag = idTag.toUpperCase()
        // identifiers on the local list are not cached (§3.5.3)
        if (await lookup(LIST, tag, 0)) return
        const old = await tableRead(CACHE)
        let text = SEP + entryOf(tag, idTagInfo) + without(old, tag).slice(1)
        const end = entryEnd(text, CACHE_ENTRIES)
        if (end >= 0) text = text.slice(0, end + 1)
        if (text !== old) await tableWrite(CACHE, text, "")
    } catch (e) {
        // a cache that cannot be written is only a cache
    } finally {
        busy = false
    }
}

/** SendLocalList (§5.15): the UpdateStatus. */
async function sendLocalList(p: any) {
    // disabled answers as unsupported, consistent with GetLocalListVersion -1 (TC_043_1)
    if (!configBool("LocalAuthListEnabled")) return "NotSupported"
    const full = p.updateType === "Full"
    const items: any[] = p.localAuthorizationList || []
    if (!full && p.listVersion <= listVersion()) return "VersionMismatch"
    if (items.length > configInt("SendLocalListMaxLength")) return "Failed"
    let text = full ? SEP : await tableRead(LIST)
    for (const a of items) {
        const tag = a.idTag.toUpperCase()
        text = without(text, tag)
        // with idTagInfo: add or replace; without: remove, which a full list cannot do
        if (a.idTagInfo) text += entryOf(tag, a.idTagInfo)
        else if (full) return "Failed"
    }
    const empty = text === SEP
    if (entryEnd(text, configInt("LocalAuthListMaxLength") + 1) >= 0 || (!empty && p.listVersion < 1)) return "Failed"
    await tableWrite(LIST, text, empty ? "0" : "" + p.listVersion)
    return "Accepted"
}

/** SendLocalList, GetLocalListVersion and ClearCache (payloads already schema-checked). */
export async function localAuthHandleCall(action: string, p: any): Promise<any> {
    await lock()
    try {
        switch (action) {
            case "SendLocalList":
                return { status: await sendLocalList(p) }
            case "GetLocalListVersion":
                return { listVersion: configBool("LocalAuthListEnabled") ? listVersion() : -1 }
            case "ClearCache":
                // an empty cache (always, while disabled: the seed) is not written again
                if (records(CACHE)) await tableWrite(CACHE, SEP, "")
                return { status: "Accepted" }
        }
    } catch (e) {
        // the flash did not take it (TC_043_3), or the list does not fit its records
        return { status: action === "ClearCache" ? "Rejected" : "Failed" }
    } finally {
        busy = false
    }
    return undefined
}

/** Find the list and the cache at boot; a corrupt record shows (and is reported) now. */
export async function localAuthLoad() {
    head[LIST] = await storeReadText(LIST + "h")
    head[CACHE] = await storeReadText(CACHE + "h")
    await tableRead(LIST)
    await tableRead(CACHE)
}

// Configuration keys: one packed table, one generic checker, one flash record per key
// that differs from its default (docs/configuration.md is generated from this table).
//
// Row: |id;Name;type;access;default;rule
//   id      two stable characters: the flash record is "c" + id, so rows may move
//   type    I integer, B boolean, S string, C comma-separated list
//   access  R read-only, RW read-write, W write-only (never reported, never logged)
//   default text; "$x" is the board's value (see configDefaults); "@x" marks a live
//           read-only value computed on demand (see configLive)
//   rule    I: allowed ranges "a-b" and single values, comma-separated ("0,4-65534");
//           S: maximum length, or a format letter: o time offset ±HH:MM or empty,
//              d date-time or empty, k AuthorizationKey, p DefaultPrice;
//           C: "<set><max items>" with set S (sampled measurands), A (aligned
//              measurands), F (feature profiles), U (charging rate units), P (phase
//              rotation); or "T<ranges>/<ranges>/..." a tuple of integers, all required;
//              or "Z" DefaultSolarMode, "Y" ActiveSolarMode
import { storeRead, storeWriteText, storeWrite, storeDelete, storeCapacity } from "./store"
import { parseIso8601 } from "../util/iso8601"

const KEYS =
    // ---- Core (seed §4.2.1) ----
    "|AR;AuthorizeRemoteTxRequests;B;RW;false;" +
    "|CA;ClockAlignedDataInterval;I;RW;0;0,30-86399" +
    "|CT;ConnectionTimeOut;I;RW;120;10-240" +
    "|CP;ConnectorPhaseRotation;C;RW;$P;P2" +
    "|GK;GetConfigurationMaxKeys;I;R;20;" +
    "|HI;HeartbeatInterval;I;RW;120;0-2147483647" +
    "|LO;LocalAuthorizeOffline;B;RW;true;" +
    "|LP;LocalPreAuthorize;B;RW;false;" +
    "|MA;MeterValuesAlignedData;C;RW;Energy.Active.Import.Register;A4" +
    "|ML;MeterValuesAlignedDataMaxLength;I;R;4;" +
    "|MD;MeterValuesSampledData;C;RW;Energy.Active.Import.Register,Current.Import,Power.Active.Import,Current.Offered,Voltage;S5" +
    "|MM;MeterValuesSampledDataMaxLength;I;R;5;" +
    "|MS;MeterValueSampleInterval;I;RW;30;0,4-65534" +
    "|NC;NumberOfConnectors;I;R;1;" +
    "|RR;ResetRetries;I;RW;0;0" +
    "|SD;StopTransactionOnEVSideDisconnect;B;RW;true;" +
    "|SI;StopTransactionOnInvalidId;B;RW;true;" +
    "|SA;StopTxnAlignedData;C;RW;Current.Import,Current.Offered,Energy.Active.Import.Register,Energy.Active.Import.Interval,Power.Active.Import,Power.Offered,Voltage;A7" +
    "|SL;StopTxnAlignedDataMaxLength;I;R;7;" +
    "|SS;StopTxnSampledData;C;RW;Current.Import,Current.Offered,Energy.Active.Import.Register,Power.Active.Import,Voltage;S5" +
    "|SM;StopTxnSampledDataMaxLength;I;R;5;" +
    "|SP;SupportedFeatureProfiles;C;R;Core,LocalAuthListManagement,RemoteTrigger;" +
    "|TA;TransactionMessageAttempts;I;RW;15;0-100" +
    "|TR;TransactionMessageRetryInterval;I;RW;10;0-86400" +
    "|UD;UnlockConnectorOnEVSideDisconnect;B;RW;true;" +
    "|WP;WebSocketPingInterval;I;RW;15;0,10-65535" +
    "|AO;AllowOfflineTxForUnknownId;B;RW;false;" +
    "|AC;AuthorizationCacheEnabled;B;RW;false;" +
    "|AK;AuthorizationKey;S;W;;k" +
    "|ME;MaxEnergyOnInvalidId;I;RW;1000;0-2147483647" +
    // ---- Local Auth List Management ----
    "|LE;LocalAuthListEnabled;B;RW;true;" +
    "|LM;LocalAuthListMaxLength;I;R;16;" +
    "|LS;SendLocalListMaxLength;I;R;8;" +
    // ---- Smart Charging ----
    "|PS;ChargeProfileMaxStackLevel;I;R;$D;" +
    "|PU;ChargingScheduleAllowedChargingRateUnit;C;R;Current,Power;" +
    "|PP;ChargingScheduleMaxPeriods;I;R;25;" +
    "|PM;MaxChargingProfilesInstalled;I;R;$D;" +
    // ---- custom keys (seed §4.3) ----
    "|FE;FreevendEnabled;B;RW;true;" +
    "|FT;FreevendIdTag;S;RW;$S;20" +
    "|TO;TimeOffset;S;RW;-05:00;o" +
    "|TN;NextTimeOffsetTransitionDateTime;S;RW;;d" +
    "|TT;TimeOffsetNextTransition;S;RW;;o" +
    "|NP;ChangeNFCPower;C;RW;10,1;T0-255/0-1" +
    "|CU;CentralSystemURL;S;RW;;200" +
    "|HB;HTTPBasicAuthEnable;B;RW;true;" +
    "|SO;DefaultSolarMode;C;RW;0,1;Z" +
    "|SX;ActiveSolarMode;C;RW;;Y" +
    "|LB;ChargingLimitedBy;C;R;@B;" +
    "|LC;ChargingLimitedChannels;C;R;@C;" +
    "|UM;UserSetMaxCurrent;I;RW;$R;6-80" +
    "|RS;MeterValueReportOnSuspendedEV;B;RW;true;" +
    "|SC;StopChargingOnlyWithSameCard;B;RW;false;" +
    "|XS;ExternalMeterSampleInterval;I;RW;30;4-65535" +
    "|AQ;AuthReqInOfflineMode;B;RW;true;" +
    "|SB;StartTransactionBeforeEnergyDelivered;B;RW;true;" +
    "|AB;ABBIdTag;B;RW;true;" +
    "|TE;ChargeRecordUseTotalEnergy;B;RW;false;" +
    "|PA;PWMAfterStartTransaction;B;RW;false;" +
    // ---- regional (seed §6.2) ----
    "|RD;RandomDelay;C;RW;600,2,1;T0-1800/1-2/0-1" +
    "|RC;RandomDelayCancel;B;RW;false;" +
    "|DS;ScreenDisplaySetting;C;RW;120,100;T0,10-300/10-100" +
    "|DB;ScreenBrightnessLevel;I;RW;1;1-2" +
    "|DC;CustomDisplayCostAndPrice;B;RW;false;" +
    "|DP;DefaultPrice;S;RW;0;p" +
    "|FA;FelicaAdvancedAuthorization;B;RW;false;" +
    // ---- this board ----
    "|VA;VentilationAvailable;B;RW;false;" +
    "|"

/** Members of the list sets of the C rules. */
const SETS =
    "|S=Current.Import,Current.Offered,Energy.Active.Import.Register,Power.Active.Import,Voltage" +
    "|A=Current.Import,Current.Offered,Energy.Active.Import.Register,Energy.Active.Import.Interval,Power.Active.Import,Power.Offered,Voltage" +
    "|P=NotApplicable,Unknown,RST,RTS,SRT,STR,TRS,TSR" +
    "|"

/** Answer of ChangeConfiguration (OCPP 1.6 ConfigurationStatus). */
export type ConfigStatus = "Accepted" | "Rejected" | "RebootRequired" | "NotSupported"

/** Board-dependent defaults ($x) and live values (@x), set by the app at boot. */
export const configDefaults: Record<string, string> = {}
export let configLive: (which: string) => string
/** Keys whose change is refused in the current state (ActiveSolarMode outside charging). */
export let configGuard: (name: string) => boolean

export function configSetProviders(live: (which: string) => string, guard: (name: string) => boolean) {
    configLive = live
    configGuard = guard
}

/** Current values of keys that differ from their default, by id. */
const values: Record<string, string> = {}
/** Ids that have a flash record, in the order of the index record. */
let stored: string = ""
let changeListener: (name: string) => void

/** Called after a key changed (ChangeConfiguration or provisioning), to apply it live. */
export function configOnChange(listener: (name: string) => void) {
    changeListener = listener
}

/** The fields of a table row starting at `start` (String.split costs ops per character). */
function fields(start: number): string[] {
    const end = KEYS.indexOf("|", start)
    const out: string[] = []
    let at = start
    while (at < end) {
        let next = KEYS.indexOf(";", at)
        if (next < 0 || next > end) next = end
        out.push(KEYS.slice(at, next))
        at = next + 1
    }
    if (KEYS[end - 1] === ";") out.push("")
    return out
}

function row(name: string): string[] {
    const at = KEYS.indexOf(";" + name + ";")
    if (at < 0 || KEYS[at - 3] !== "|") return undefined
    return fields(at - 2)
}

/** Names of all keys, in table order. */
export function configNames(): string[] {
    const names: string[] = []
    let at = 0
    while (at < KEYS.length - 1) {
        const end = KEYS.indexOf("|", at + 1)
        names.push(KEYS.slice(at + 4, KEYS.indexOf(";", at + 4)))
        at = end
    }
    return names
}

/** "R", "RW" or "W"; undefined for unknown keys. */
export function configAccess(name: string) {
    const r = row(name)
    return r ? r[3] : undefined
}

function defaultOf(r: string[]) {
    const d = r[4]
    if (d[0] === "$") return configDefaults[d] || ""
    if (d[0] === "@") return configLive ? configLive(d) : ""
    return d
}

/** Current value as text (write-only keys included: callers must not report those). */
export function configGet(name: string): string {
    const r = row(name)
    if (!r) return undefined
    const v = values[r[0]]
    return v !== undefined ? v : defaultOf(r)
}

export function configInt(name: string) {
    return parseInt(configGet(name))
}

export function configBool(name: string) {
    return configGet(name) === "true"
}

function inRanges(v: number, rule: string) {
    const parts = rule.split(",")
    for (const p of parts) {
        const dash = p.indexOf("-", 1)
        if (dash < 0 ? v === parseInt(p) : v >= parseInt(p.slice(0, dash)) && v <= parseInt(p.slice(dash + 1)))
            return true
    }
    return false
}

/** An integer in decimal within the ranges of `rule` (empty: any), normalised; else undefined. */
function checkInt(value: string, rule: string) {
    const t = value.trim()
    for (let i = t[0] === "-" ? 1 : 0; i < t.length; i++) {
        const c = t.charCodeAt(i)
        if (c < 48 || c > 57) return undefined
    }
    const v = parseInt(t)
    if (!t || isNaN(v) || (rule && !inRanges(v, rule))) return undefined
    return "" + v
}

/** ±HH:MM (or empty). */
function isOffset(v: string) {
    if (!v) return true
    const h = parseInt(v.slice(1, 3))
    const m = parseInt(v.slice(4, 6))
    return v.length === 6 && (v[0] === "+" || v[0] === "-") && v[3] === ":" && h >= 0 && h <= 14 && m >= 0 && m <= 59
}

function checkString(value: string, rule: string) {
    if (rule === "o") return isOffset(value) ? value : undefined
    if (rule === "d") return !value || !isNaN(parseIso8601(value)) ? value : undefined
    if (rule === "k") {
        // 16-40 printable characters; 32-40 hex digits are the 16-20 key bytes (whitepaper)
        if (value.length < 16 || value.length > 40) return undefined
        for (let i = 0; i < value.length; i++) {
            const c = value.charCodeAt(i)
            if (c < 33 || c > 126) return undefined
        }
        return value
    }
    if (rule === "p") {
        // "0" (no default price) or the CTEP object {"priceText": ..., ...} (seed §6.2.2)
        if (value === "0") return value
        try {
            const o = JSON.parse(value)
            return o && typeof o === "object" && typeof o.priceText === "string" ? value : undefined
        } catch {
            return undefined
        }
    }
    return value.length <= parseInt(rule) ? value : undefined
}

/** Solar modes: "enable,mode[,threshold]" (Z) or "mode[,threshold]" (Y); mode 2 needs a threshold 0-6. */
function checkSolar(items: string[], withEnable: boolean) {
    const base = withEnable ? 1 : 0
    if (withEnable && checkInt(items[0], "0-1") === undefined) return undefined
    const mode = checkInt(items[base] || "", "1-3")
    if (mode === undefined) return undefined
    const n = items.length - base
    if (mode === "2" ? n !== 2 || checkInt(items[base + 1], "0-6") === undefined : n !== 1) return undefined
    return items.join(",")
}

/** Check a value for a key; returns the normalised text or undefined when invalid. */
export function configCheck(name: string, value: string): string {
    const r = row(name)
    if (!r || typeof value !== "string") return undefined
    const type = r[2]
    const rule = r[5]
    if (type === "I") return checkInt(value, rule)
    if (type === "B") {
        const t = value.trim().toLowerCase()
        return t === "true" || t === "false" ? t : undefined
    }
    if (type === "S") return checkString(value, rule)
    const items = value.split(",")
    for (let i = 0; i < items.length; i++) items[i] = items[i].trim()
    if (rule[0] === "T") {
        // a tuple of integers: exactly as many as ranges, each in its own range
        const ranges = rule.slice(1).split("/")
        if (items.length !== ranges.length) return undefined
        for (let i = 0; i < items.length; i++) {
            const v = checkInt(items[i], ranges[i])
            if (v === undefined) return undefined
            items[i] = v
        }
        return items.join(",")
    }
    if (rule === "Z" || rule === "Y") return checkSolar(items, rule === "Z")
    // a list of members of a set, at most N items; an empty value is an empty list
    if (!value.trim()) return ""
    const set = "," + SETS.slice(SETS.indexOf("|" + rule[0] + "=") + 3, SETS.indexOf("|", SETS.indexOf("|" + rule[0] + "=") + 1)) + ","
    if (items.length > parseInt(rule.slice(1))) return undefined
    for (const item of items) {
        let member = item
        if (rule[0] === "P") {
            // connector.rotation, connectors 0 and 1
            const dot = item.indexOf(".")
            const c = item.slice(0, dot)
            if (c !== "0" && c !== "1") return undefined
            member = item.slice(dot + 1)
        }
        if (!member || set.indexOf("," + member + ",") < 0) return undefined
    }
    return items.join(",")
}

/** ChangeConfiguration: validate, persist, apply. */
export async function configChange(name: string, value: string): Promise<ConfigStatus> {
    const r = row(name)
    if (!r) return "NotSupported"
    if (r[3] === "R") return "Rejected"
    const v = configCheck(name, value)
    if (v === undefined || (configGuard && !configGuard(name))) return "Rejected"
    await configPut(r, v)
    return "Accepted"
}

/** Set a key without the access check (provisioning, the board's own state). */
export async function configSet(name: string, value: string) {
    const r = row(name)
    if (r) await configPut(r, value)
}

// ---- flash layout ----
// "cx"          index: the ids with a record, two characters each, plus a layout version
// "c" + id      the value as text, when it fits one record
// "c" + id + n  parts 1..n of a longer value (DefaultPrice), written before the head
//               "c" + id, which then holds "\u0001" + n + generation: the head's write
//               switches atomically from the old parts to the new ones.
const LAYOUT_VERSION = "1"
const INDEX_KEY = "cx"

async function writeIndex(ids: string) {
    await storeWriteText(INDEX_KEY, LAYOUT_VERSION + ids)
    stored = ids
}

/** Position of an id in the index (ids are two characters, so only even positions count). */
function indexOfId(id: string) {
    for (let i = 0; i + 1 < stored.length; i += 2) if (stored[i] === id[0] && stored[i + 1] === id[1]) return i
    return -1
}

async function configPut(r: string[], v: string) {
    const id = r[0]
    const old = values[id] !== undefined ? values[id] : defaultOf(r)
    if (v === old) return
    const key = "c" + id
    const at = indexOfId(id)
    if (v === defaultOf(r)) {
        // index first: a power cut afterwards leaves an unreferenced record, not a stale value
        if (at >= 0) await writeIndex(stored.slice(0, at) + stored.slice(at + 2))
        await deleteValue(key)
        delete values[id]
    } else {
        await writeValue(key, v)
        values[id] = v
        if (at < 0) await writeIndex(stored + id)
    }
    if (changeListener) changeListener(r[1])
}

/** Delete the part records a head names (head: 1, count, generation). */
async function deleteParts(key: string, head: Buffer) {
    if (head && head[0] === 1) for (let i = 0; i < head[1] - 48; i++) await storeDelete(key + String.fromCharCode(head[2]) + i)
}

async function deleteValue(key: string) {
    await deleteParts(key, await storeRead(key))
    await storeDelete(key)
}

async function writeValue(key: string, v: string) {
    const b = Buffer.from(v)
    const head = await storeRead(key)
    if (b.length <= storeCapacity(key) && v[0] !== "\u0001") await storeWriteText(key, v)
    else {
        // alternate between two sets of part records (generation a / b)
        const gen = head && head[0] === 1 && head[2] === 97 ? "b" : "a"
        const cap = storeCapacity(key + gen + "0")
        const parts = Math.ceil(b.length / cap)
        for (let i = 0; i < parts; i++) await storeWrite(key + gen + i, b.slice(i * cap, Math.min((i + 1) * cap, b.length)))
        await storeWriteText(key, "\u0001" + String.fromCharCode(48 + parts) + gen)
    }
    // the old parts are unreferenced now
    await deleteParts(key, head)
}

async function readValue(key: string): Promise<string> {
    const head = await storeRead(key)
    if (!head) return undefined
    if (head[0] !== 1) return head.toString("utf-8")
    const parts: Buffer[] = []
    const gen = String.fromCharCode(head[2])
    for (let i = 0; i < head[1] - 48; i++) {
        const p = await storeRead(key + gen + i)
        if (!p) return undefined
        parts.push(p)
    }
    return Buffer.concat(...parts).toString("utf-8")
}

/**
 * Load every stored value (at boot). A record that is corrupt or no longer valid leaves
 * the default (the store reports corrupt records).
 */
export async function configLoad() {
    const index = await storeRead(INDEX_KEY)
    const text = index ? index.toString("utf-8") : ""
    stored = text[0] === LAYOUT_VERSION ? text.slice(1) : ""
    for (let i = 0; i + 1 < stored.length; i += 2) {
        const id = stored.slice(i, i + 2)
        const at = KEYS.indexOf("|" + id + ";")
        if (at < 0) continue
        const r = fields(at + 1)
        const v = await readValue("c" + id)
        // values that no longer pass their rule fall back to the default (strings are free-form)
        if (v !== undefined && (r[2] === "S" || configCheck(r[1], v) !== undefined)) values[id] = v
    }
}

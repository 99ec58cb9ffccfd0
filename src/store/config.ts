// Configuration keys: one packed table, one generic checker, one record per changed key.
//
// Row: |id;Name;type;access;default;rule
//   id      two stable characters: the flash record is "c" + id, so rows may move
//   type    I integer, B boolean, S string, C comma-separated list
//   access  R read-only, RW read-write, W write-only (never reported, never logged)
//   rule    I: allowed ranges "a-b" or single values, comma-separated ("0,4-65534");
//           S: maximum length; C: "<list>/<max items>" with list M = measurands, or
//           "T<ranges>/<ranges>/..." for a fixed tuple of integers, all required
import { storeRead, storeWriteText, storeDelete } from "./store"

const KEYS =
    "|HI;HeartbeatInterval;I;RW;120;0-2147483647" +
    "|MS;MeterValueSampleInterval;I;RW;30;0,4-65534" +
    "|WP;WebSocketPingInterval;I;RW;15;0,10-65535" +
    "|CT;ConnectionTimeOut;I;RW;120;10-240" +
    "|MD;MeterValuesSampledData;C;RW;Energy.Active.Import.Register,Current.Import,Power.Active.Import,Current.Offered,Voltage;M/5" +
    "|NC;NumberOfConnectors;I;R;1;" +
    "|GK;GetConfigurationMaxKeys;I;R;20;" +
    "|SP;SupportedFeatureProfiles;C;R;Core,FirmwareManagement,LocalAuthListManagement,SmartCharging,RemoteTrigger,Reservation;" +
    "|CU;CentralSystemURL;S;RW;;200" +
    "|AK;AuthorizationKey;S;W;;40" +
    "|HB;HTTPBasicAuthEnable;B;RW;true;" +
    "|NP;ChangeNFCPower;C;RW;10,1;T0-255/0-1" +
    "|VA;VentilationAvailable;B;RW;false;" +
    "|"

/** Measurands this firmware can report (MeterValuesSampledData etc. are checked against it). */
const MEASURANDS =
    ",Energy.Active.Import.Register,Energy.Active.Import.Interval,Power.Active.Import,Power.Offered,Current.Import,Current.Offered,Voltage,"

/** Answer of ChangeConfiguration (OCPP 1.6 ConfigurationStatus). */
export type ConfigStatus = "Accepted" | "Rejected" | "RebootRequired" | "NotSupported"

const values: Record<string, string> = {}
let changeListener: (name: string) => void

/** Called after a key changed (ChangeConfiguration or provisioning), to apply it live. */
export function configOnChange(listener: (name: string) => void) {
    changeListener = listener
}

function row(name: string): string[] {
    const at = KEYS.indexOf(";" + name + ";")
    if (at < 0) return undefined
    const start = at - 3
    return KEYS.slice(start + 1, KEYS.indexOf("|", at)).split(";")
}

/** Names of all keys, in table order. */
export function configNames(): string[] {
    const names: string[] = []
    let at = KEYS.indexOf("|")
    while (at < KEYS.length - 1) {
        const end = KEYS.indexOf("|", at + 1)
        const line = KEYS.slice(at + 1, end)
        const a = line.indexOf(";")
        names.push(line.slice(a + 1, line.indexOf(";", a + 1)))
        at = end
    }
    return names
}

/** Read-only flag and visibility: "R", "RW", "W"; undefined for unknown keys. */
export function configAccess(name: string) {
    const r = row(name)
    return r ? r[3] : undefined
}

/** Current value as text (write-only keys included: callers must not report those). */
export function configGet(name: string): string {
    const r = row(name)
    if (!r) return undefined
    const v = values[r[0]]
    return v !== undefined ? v : r[4]
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
function configCheckInt(value: string, rule: string) {
    const t = value.trim()
    for (let i = t[0] === "-" ? 1 : 0; i < t.length; i++) {
        const c = t.charCodeAt(i)
        if (c < 48 || c > 57) return undefined
    }
    const v = parseInt(t)
    if (!t || isNaN(v) || (rule && !inRanges(v, rule))) return undefined
    return "" + v
}

/** Check a value for a key; returns the normalised text or undefined when invalid. */
export function configCheck(name: string, value: string): string {
    const r = row(name)
    if (!r || typeof value !== "string") return undefined
    const type = r[2]
    const rule = r[5]
    if (type === "I") return configCheckInt(value, rule)
    if (type === "B") {
        const t = value.trim().toLowerCase()
        return t === "true" || t === "false" ? t : undefined
    }
    if (type === "S") return rule && value.length > parseInt(rule) ? undefined : value
    const items = value.split(",")
    if (rule[0] === "T") {
        // a tuple of integers: exactly as many as ranges, each in its own range
        const ranges = rule.slice(1).split("/")
        if (items.length !== ranges.length) return undefined
        const out: string[] = []
        for (let i = 0; i < items.length; i++) {
            const v = configCheckInt(items[i], ranges[i])
            if (v === undefined) return undefined
            out.push(v)
        }
        return out.join(",")
    }
    // CSL: every item must be known and the list not longer than the maximum
    const slash = rule.indexOf("/")
    if (slash >= 0 && items.length > parseInt(rule.slice(slash + 1))) return undefined
    const out: string[] = []
    for (const item of items) {
        const t = item.trim()
        if (!t) continue
        if (rule[0] === "M" && MEASURANDS.indexOf("," + t + ",") < 0) return undefined
        out.push(t)
    }
    return out.join(",")
}

/** ChangeConfiguration: validate, persist, apply. */
export async function configChange(name: string, value: string): Promise<ConfigStatus> {
    const r = row(name)
    if (!r) return "NotSupported"
    if (r[3] === "R") return "Rejected"
    const v = configCheck(name, value)
    if (v === undefined) return "Rejected"
    await configPut(r, v)
    return "Accepted"
}

/** Set a key without the access check (provisioning, internal state). */
export async function configSet(name: string, value: string) {
    const r = row(name)
    if (r) await configPut(r, value)
}

async function configPut(r: string[], v: string) {
    const id = r[0]
    const old = values[id] !== undefined ? values[id] : r[4]
    if (v === old) return
    if (v === r[4]) {
        await storeDelete("c" + id)
        delete values[id]
    } else {
        await storeWriteText("c" + id, v)
        values[id] = v
    }
    if (changeListener) changeListener(r[1])
}

/** Load every stored value (at boot). A corrupt record leaves the default. */
export async function configLoad() {
    let at = KEYS.indexOf("|")
    while (at < KEYS.length - 1) {
        const id = KEYS.slice(at + 1, at + 3)
        const b = await storeRead("c" + id)
        if (b) values[id] = b.toString("utf-8")
        at = KEYS.indexOf("|", at + 1)
    }
}

// Transactions and meter values (OCPP 1.6 §4.7-4.10, §5.x; seed §4.3).
//
// Local decisions and delivery are apart:
// - txTick (housekeeping fiber, every 200 ms, no network): begins and ends transactions,
//   takes sampled and clock-aligned meter values, and writes each transaction message to
//   the journal (flash) first;
// - journalService (outbox fiber): delivers the journal in order, one CALL at a time,
//   deleting a record only after its CALLRESULT.
// Every transaction gets a local id (the sequence number of its StartTransaction record);
// once StartTransaction.conf arrives, the central system's id replaces it in every later
// message (one persisted mapping suffices: records are delivered in order).
import * as ds from "@devicescript/core"
import { rpcCall, CallError } from "./rpc"
import { cp, txEnv, coreTxBegan, coreTxEnded } from "./core"
import { journalAppend, journalHead, journalDrop, journalCount, journalNextSeq, journalRead, journalHeadSeq, journalExtendTail, Kind, Priority } from "./journal"
import { storeRead, storeWrite, storeDelete, storeCapacity } from "../store/store"
import { configInt, configGet, configBool } from "../store/config"
import { wallClockMs, setWallClock } from "../util/clock"
import { formatIso8601 } from "../util/iso8601"
import { currentForDutyPermille } from "../evse/pilot"
import { authCacheUpdate } from "./localauth"

/** Measurands we can measure, by code (the index); units and phases alongside. */
const MEASURANDS = [
    "Energy.Active.Import.Register",
    "Power.Active.Import",
    "Current.Offered",
    "Current.Import",
    "Voltage",
    "Energy.Active.Import.Interval",
    "Power.Offered",
]
const UNITS = ["Wh", "W", "A", "A", "V", "Wh", "W"]
const CONTEXTS = ["Sample.Periodic", "Sample.Clock", "Transaction.Begin", "Transaction.End", "Trigger"]
export const enum Ctx {
    Periodic = 0,
    Clock = 1,
    Begin = 2,
    End = 3,
    Trigger = 4,
}
/** StopTransaction reasons (OCPP 1.6 §7.40), stored as their index. */
const REASONS = ["Local", "Remote", "EVDisconnected", "PowerLoss", "Reboot", "HardReset", "SoftReset", "DeAuthorized", "EmergencyStop", "Other", "UnlockCommand"]
/** Local id of MeterValues outside any transaction. */
const NO_TX = 0xffff
/** Voltage assumed for Power.Offered when the board does not measure it. */
const NOMINAL_VOLTAGE_V = 230
/** Journal records delivered per outbox pass (status and heartbeat go in between). */
const RECORDS_PER_PASS = 4
/** The clock is persisted with the register at least this often during a transaction. */
const CLOCK_PERSIST_MS = 600000

const iso = (s: number) => formatIso8601(s * 1000)
const nowS = () => Math.floor(wallClockMs() / 1000)

/**
 * The last StartTransaction or StopTransaction answered: kind, local id and timestamp
 * (together they identify the record even when local ids are reused) and the central
 * system's id of its transaction (0: given up). Persisted before the record is deleted,
 * so a power cut in between does not send it twice.
 */
let mapKind = 0
let mapLocal = -1
let mapAtS = 0
let mapCsms = 0
/** Local id whose "tx" record still exists: its StopTransaction waits until it is gone. */
let openRecordLocal = -1
let attempts = 0
let retryAtMs = 0
let nextSampleMs = 0
let nextAlignedS = 0
let alignedWh = -1
let persistedAtMs = 0
/** Last clock-aligned sample of the running transaction (StopTxnAlignedData). */
let txAligned: Buffer
/** Transaction.Begin sample of the running transaction. */
let txBegin: Buffer
let stopReason = -1
/** When the StartTransaction became due (epoch s; 0: not yet) and the register then. */
let startDueS = 0
let startDueWh = 0
/** Socket variants: the plug lock wanted, and as last applied. */
let lockWanted = false
/** true at boot: whatever a power cut left, the plug is released first */
let lockApplied = true
let stopTag = ""
let stopWh = 0
let stopS = 0

// ---- samples: "ts u32, context u8, n u8, n × (measurand u8, value×10 i32)" ----

function tenths(code: number): number {
    const { hw, ctl, meter } = txEnv
    const now = ds.millis()
    const offeredA = currentForDutyPermille(ctl.dutyPermille())
    const volts = hw.measuresCurrentVoltage ? Math.round(hw.voltageMv / 100) : NaN
    switch (code) {
        case 0:
            return meter.energyWh() * 10
        case 1:
            return meter.powerW(now) * 10
        case 2:
            return offeredA * 10
        case 3:
            return hw.measuresCurrentVoltage ? (ctl.contactor ? Math.round(hw.currentMa / 100) : 0) : NaN
        case 4:
            return volts
        case 5:
            return (meter.energyWh() - alignedWh) * 10
    }
    return Math.round(offeredA * (isNaN(volts) ? NOMINAL_VOLTAGE_V : volts / 10) * txEnv.hw.phases) * 10
}

/** Take the measurands of a configuration list (CSL) now. */
export function captureSample(csl: string, ctx: Ctx): Buffer {
    const names = csl ? csl.split(",") : [MEASURANDS[0]]
    const b = Buffer.alloc(6 + 5 * names.length)
    b.setAt(0, "u32", nowS())
    b[4] = ctx
    let n = 0
    for (const m of names) {
        const code = MEASURANDS.indexOf(m)
        const v = code < 0 ? NaN : tenths(code)
        if (isNaN(v)) continue
        b[6 + 5 * n] = code
        b.setAt(7 + 5 * n, "i32", v)
        n++
    }
    b[5] = n
    return b.slice(0, 6 + 5 * n)
}

/** MeterValue elements of the samples from `at` to the end of a record. */
function samplesFrom(b: Buffer, at: number) {
    const out: any[] = []
    for (; at + 6 <= b.length; at += 6 + 5 * b[at + 5]) out.push(sampleToMeterValue(b, at))
    return out
}

/** A MeterValue element (OCPP 1.6 §7.x) from a sample at `at`. */
export function sampleToMeterValue(b: Buffer, at: number): any {
    const values: any[] = []
    for (let i = 0; i < b[at + 5]; i++) {
        const code = b[at + 6 + 5 * i]
        const sv: any = { value: "" + b.getAt(at + 7 + 5 * i, "i32") / 10, context: CONTEXTS[b[at + 4]], measurand: MEASURANDS[code], unit: UNITS[code] }
        if (code === 3) sv.phase = "L1"
        if (code === 4) sv.phase = "L1-N"
        values.push(sv)
    }
    return { timestamp: iso(b.getAt(at, "u32")), sampledValue: values }
}

// ---- records ----

function header(kind: Kind, local: number, extra: number) {
    const b = Buffer.alloc(3 + extra)
    b[0] = kind
    b.setAt(1, "u16", local)
    return b
}

/** Energy figure of Start/Stop: the register, or since the start (ChargeRecordUseTotalEnergy false). */
function chargeRecordWh(registerWh: number) {
    return configBool("ChargeRecordUseTotalEnergy") ? registerWh : registerWh - cp.txStartWh
}

async function journal(rec: Buffer, priority: Priority) {
    let seq = -1
    await flash(async () => {
        seq = await journalAppend(rec, priority)
    })
    return seq
}

/**
 * A flash write of the transaction code. A failure raises the seed's "offline storage
 * error" (0x8000: the operator must hear of it, charging goes on) and is not thrown: the
 * session logic carries on with what it has; the next good write clears the fault.
 */
async function flash(write: () => Promise<void>) {
    try {
        await write()
        cp.storageFault = 0
        return true
    } catch (e) {
        cp.storageFault = 0x8000
        console.log("flash: " + e)
        return false
    }
}

/**
 * Journal a meter sample: appended to the newest record when that is a MeterValues of the
 * same transaction not yet in flight (one MeterValues.req then carries several
 * meterValue elements), else as a record of its own.
 */
async function journalSample(local: number, sample: Buffer, priority: Priority) {
    const seq = (journalNextSeq() - 1) & 0xffff
    const last = journalCount() > 1 ? await journalRead(seq) : undefined
    try {
        if (last && last[0] === Kind.Meter && last.getAt(1, "u16") === local && last.length + sample.length <= storeCapacity("j000") && (await journalExtendTail(Buffer.concat(last, sample), priority))) return
    } catch (e) {
        cp.storageFault = 0x8000
        return
    }
    await journal(Buffer.concat(header(Kind.Meter, local, 0), sample), priority)
}

/** The "tx" record: local id, register at start, flags (bit 0: StartTransaction journalled), Transaction.Begin sample. */
async function writeOpenRecord(started: boolean) {
    const b = Buffer.alloc(7)
    b.setAt(0, "u16", cp.txLocal)
    b.setAt(2, "u32", cp.txStartWh)
    b[6] = started ? 1 : 0
    if (await flash(async () => await storeWrite("tx", Buffer.concat(b, txBegin)))) openRecordLocal = cp.txLocal
}

/**
 * Journal the StartTransaction once it is due (at the start, or at the first closing), with
 * the time and register of that moment; retried while the journal cannot take it.
 */
async function journalStart() {
    if (!startDueS) {
        startDueS = nowS()
        startDueWh = txEnv.meter.energyWh()
    }
    const tag = Buffer.from(cp.txIdTag)
    const r = header(Kind.Start, cp.txLocal, 8 + tag.length)
    r.setAt(3, "u32", startDueS)
    r.setAt(7, "u32", chargeRecordWh(startDueWh))
    r.blitAt(11, tag, 0, tag.length)
    if ((await journal(r, Priority.Essential)) >= 0) {
        cp.txStartJournalled = true
        await writeOpenRecord(true)
    }
}

function stopRecord(local: number, reason: number, tag: string, wh: number, atS: number, samples: Buffer[]) {
    const t = Buffer.from(tag)
    const r = header(Kind.Stop, local, 10 + t.length)
    r.setAt(3, "u32", atS)
    r.setAt(7, "u32", wh)
    r[11] = reason
    r[12] = t.length
    r.blitAt(13, t, 0, t.length)
    return Buffer.concat(r, ...samples)
}

/** End the running transaction now (energy and time taken now); StopTransaction follows. */
export function endTransaction(reason: string, tag?: string) {
    if (!cp.txActive) return
    stopReason = REASONS.indexOf(reason)
    stopTag = tag || ""
    stopWh = txEnv.meter.energyWh()
    stopS = nowS()
    cp.txActive = false
    cp.finishing = true
    coreTxEnded()
}

/** A sample interval changed: the next value follows the new interval from now. */
export function txRestartSampling() {
    nextSampleMs = 0
    nextAlignedS = 0
}

/** No transaction end is waiting to be journalled. */
export function txIdle() {
    return stopReason < 0
}

/** Begin a transaction for the authorised idTag (the EV is plugged in). */
async function beginTransaction() {
    cp.txLocal = journalNextSeq()
    cp.txIdTag = cp.authIdTag
    cp.authIdTag = ""
    cp.txStartWh = txEnv.meter.energyWh()
    cp.txParent = cp.authParent
    cp.txActive = true
    cp.txConfirmed = false
    cp.txInvalid = false
    cp.txStartJournalled = false
    cp.finishing = false
    cp.transactionId = -(cp.txLocal + 1)
    startDueS = 0
    lockWanted = true
    txAligned = undefined
    txBegin = captureSample(configGet("StopTxnSampledData"), Ctx.Begin)
    coreTxBegan()
    nextSampleMs = ds.millis() + configInt("MeterValueSampleInterval") * 1000
    await persistEnergy()
    // StartTransactionBeforeEnergyDelivered false: StartTransaction when the relay first closes
    if (configBool("StartTransactionBeforeEnergyDelivered")) await journalStart()
    else await writeOpenRecord(false)
}

async function finishTransaction() {
    const reason = stopReason
    stopReason = -1
    // the plug stays locked after an EV-side disconnect unless UnlockConnectorOnEVSideDisconnect
    if (REASONS[reason] !== "EVDisconnected" || configBool("UnlockConnectorOnEVSideDisconnect")) lockWanted = false
    // a transaction that never delivered energy (StartTransaction still held back) leaves no record
    if (!cp.txStartJournalled && startDueS) await journalStart()
    if (cp.txStartJournalled) {
        const samples = [txBegin, captureSample(configGet("StopTxnSampledData"), Ctx.End)]
        if (txAligned) samples.push(txAligned)
        await journal(stopRecord(cp.txLocal, reason, stopTag, chargeRecordWh(stopWh), stopS, samples), Priority.Essential)
    }
    // the StopTransaction may go out even if the delete fails (the boot check finds it journalled)
    openRecordLocal = -1
    await flash(async () => await storeDelete("tx"))
    await persistEnergy()
}

/** Register and clock in flash: the PowerLoss StopTransaction after a cut uses them. */
export async function persistEnergy() {
    const b = Buffer.alloc(8)
    b.setAt(0, "u32", txEnv.meter.energyWh())
    b.setAt(4, "u32", nowS())
    // tried again at the next 100 Wh or clock step, not at every tick
    txEnv.meter.persistedWh = txEnv.meter.energyWh()
    persistedAtMs = ds.millis()
    await flash(async () => await storeWrite("eWh", b))
}

function offsetS() {
    // TimeOffset "±HH:MM": clock-aligned values follow local midnight
    const o = configGet("TimeOffset")
    if (o.length < 6) return 0
    const s = (parseInt(o.slice(1, 3)) * 60 + parseInt(o.slice(4, 6))) * 60
    return o[0] === "-" ? -s : s
}

/** First clock-aligned instant after nowSec (aligned to local midnight), epoch s. */
export function nextAlignedAfter(nowSec: number, intervalS: number, offsetSec: number) {
    const local = nowSec + offsetSec
    const day = local - (local % 86400)
    return day + Math.min((Math.floor((local - day) / intervalS) + 1) * intervalS, 86400) - offsetSec
}

async function sampleMeterValues() {
    const now = ds.millis()
    const intervalS = configInt("MeterValueSampleInterval")
    // MeterValueReportOnSuspendedEV (seed): no periodic values while the EV takes nothing
    const reported = cp.status !== "SuspendedEV" || configBool("MeterValueReportOnSuspendedEV")
    if (cp.txActive && cp.txStartJournalled && intervalS > 0 && now >= nextSampleMs) {
        nextSampleMs = now + intervalS * 1000
        if (reported) {
            await journalSample(cp.txLocal, captureSample(configGet("MeterValuesSampledData"), Ctx.Periodic), Priority.Sampled)
            // a PowerLoss stop never counts less than a value already reported (found by the soak)
            await persistEnergy()
        }
    }
    const alignS = configInt("ClockAlignedDataInterval")
    const t = nowS()
    if (alignS <= 0) {
        nextAlignedS = 0
        return
    }
    if (!nextAlignedS || nextAlignedS - t > alignS) nextAlignedS = nextAlignedAfter(t, alignS, offsetS())
    if (alignedWh < 0) alignedWh = txEnv.meter.energyWh()
    if (t < nextAlignedS) return
    nextAlignedS = nextAlignedAfter(t, alignS, offsetS())
    const inTx = cp.txActive && cp.txStartJournalled
    const s = captureSample(configGet("MeterValuesAlignedData"), Ctx.Clock)
    if (inTx) txAligned = captureSample(configGet("StopTxnAlignedData"), Ctx.Clock)
    alignedWh = txEnv.meter.energyWh()
    await journalSample(inTx ? cp.txLocal : NO_TX, s, inTx ? Priority.Aligned : Priority.Sampled)
    if (inTx) await persistEnergy()
}

/**
 * Local transaction work, no network (housekeeping fiber): start, stop, meter values,
 * the energy register and clock in flash.
 */
export async function txTick() {
    const { ctl, meter } = txEnv
    if (stopReason >= 0) await finishTransaction()
    if (txEnv.hw.socketOutlet && lockWanted !== lockApplied) {
        lockApplied = lockWanted
        await txEnv.hw.setConnectorLock(lockWanted)
    }
    if (!cp.txActive && cp.authIdTag && ctl.evConnected() && cp.available && !cp.finishing) await beginTransaction()
    if (cp.txActive && !cp.txStartJournalled && (startDueS || ctl.contactor)) await journalStart()
    // MaxEnergyOnInvalidId: an invalidated idTag may take this much more, then the EVSE holds back
    if (cp.txActive && cp.txInvalid && meter.energyWh() - cp.txStartWh >= configInt("MaxEnergyOnInvalidId")) cp.txHeld = true
    await sampleMeterValues()
    if (meter.needsPersist() || (cp.txActive && ds.millis() - persistedAtMs > CLOCK_PERSIST_MS)) await persistEnergy()
}

/** Restore the register, the clock, the id mapping; close a transaction a power cut interrupted. */
export async function txLoad() {
    const { meter } = txEnv
    const m = await storeRead("jm")
    if (m && m.length === 11) {
        mapLocal = m.getAt(0, "u16")
        mapAtS = m.getAt(2, "u32")
        mapCsms = m.getAt(6, "i32")
        mapKind = m[10]
    }
    const e = await storeRead("eWh")
    let atS = 0
    if (e && e.length >= 4) meter.restore(e.getAt(0, "u32"))
    if (e && e.length === 8) atS = e.getAt(4, "u32")
    // the last known time — the register's, or the newest journal record's (every record
    // has its time at byte 3) — until the central system tells the real one: no message
    // after the cut is stamped before one from before it
    const last = journalCount() ? await journalRead((journalNextSeq() - 1) & 0xffff) : undefined
    if (last && last.length >= 7) atS = Math.max(atS, last.getAt(3, "u32"))
    if (atS) setWallClock(atS * 1000)
    const t = await storeRead("tx")
    if (!t) return
    const local = t.getAt(0, "u16")
    // the StopTransaction may be journalled already (a cut between it and the "tx" delete)
    let stopped = !(t[6] & 1)
    for (let s = journalHeadSeq(), n = journalCount(); n > 0 && !stopped; n--, s = (s + 1) & 0xffff) {
        const r = await journalRead(s)
        stopped = r && r[0] === Kind.Stop && r.getAt(1, "u16") === local
    }
    if (!stopped) {
        cp.txStartWh = t.getAt(2, "u32")
        const samples = [t.slice(7, t.length), captureSample(configGet("StopTxnSampledData"), Ctx.End)]
        await journal(stopRecord(local, REASONS.indexOf("PowerLoss"), "", chargeRecordWh(meter.energyWh()), atS, samples), Priority.Essential)
    }
    await storeDelete("tx")
    cp.txStartWh = 0
}

// ---- delivery ----

async function setMapping(kind: Kind, local: number, atS: number, csmsId: number) {
    mapKind = kind
    mapLocal = local
    mapAtS = atS
    mapCsms = csmsId
    const b = Buffer.alloc(11)
    b.setAt(0, "u16", local)
    b.setAt(2, "u32", atS)
    b.setAt(6, "i32", csmsId)
    b[10] = kind
    await storeWrite("jm", b)
}

/** The StartTransaction of the running transaction was answered. */
function startAnswered(local: number, r: any) {
    if (!cp.txActive || local !== cp.txLocal) return
    cp.transactionId = r.transactionId
    cp.txConfirmed = true
    if (r.idTagInfo.parentIdTag) cp.txParent = r.idTagInfo.parentIdTag
    if (r.idTagInfo.status !== "Accepted") {
        // OCPP 1.6 §5.16: stop (StopTransactionOnInvalidId) or deliver at most MaxEnergyOnInvalidId
        if (configBool("StopTransactionOnInvalidId")) endTransaction("DeAuthorized")
        else cp.txInvalid = true
    }
}

/**
 * Deliver journal records in order (outbox fiber). A CALLERROR (or a malformed answer)
 * counts as an attempt: retried after TransactionMessageRetryInterval × attempts, given
 * up after TransactionMessageAttempts. No answer at all (link down, timeout) is not an
 * attempt: the record waits for the central system however long it takes, as the seed's
 * charger does.
 */
export async function journalService() {
    for (let n = 0; n < RECORDS_PER_PASS && journalCount() > 0 && ds.millis() >= retryAtMs; n++) {
        const rec = await journalHead()
        if (!rec) return
        const kind = rec.length ? rec[0] : 0
        const local = rec.length ? rec.getAt(1, "u16") : -1
        const txId = local === mapLocal ? mapCsms : 0
        let action = ""
        let tag = ""
        const p: any = {}
        const atS = rec.length ? rec.getAt(3, "u32") : 0
        // answered before a power cut took the record's delete: not sent again
        const answered = kind === mapKind && local === mapLocal && atS === mapAtS
        if (kind === Kind.Start) {
            if (!answered) action = "StartTransaction"
            tag = rec.slice(11, rec.length).toString("utf-8")
            p.connectorId = 1
            p.idTag = tag
            p.meterStart = rec.getAt(7, "u32")
            p.timestamp = iso(atS)
        } else if (kind === Kind.Meter) {
            // values of a transaction whose StartTransaction was given up go with it
            if (local === NO_TX || txId) action = "MeterValues"
            p.connectorId = 1
            if (local !== NO_TX) p.transactionId = txId
            p.meterValue = samplesFrom(rec, 3)
        } else if (kind === Kind.Stop) {
            if (local === openRecordLocal) return
            if (txId && !answered) action = "StopTransaction"
            p.transactionId = txId
            p.meterStop = rec.getAt(7, "u32")
            p.timestamp = iso(atS)
            p.reason = REASONS[rec[11]]
            const tagLen = rec[12]
            tag = rec.slice(13, 13 + tagLen).toString("utf-8")
            if (tag) p.idTag = tag
            const data = samplesFrom(rec, 13 + tagLen)
            if (data.length) p.transactionData = data
        }
        let r: any
        if (action) {
            try {
                r = await rpcCall(action, p)
            } catch (e) {
                const code = (e as CallError).code
                if (code === "NotConnected" || code === "Timeout" || !code) return
                if (++attempts < configInt("TransactionMessageAttempts")) {
                    retryAtMs = ds.millis() + configInt("TransactionMessageRetryInterval") * 1000 * attempts
                    return
                }
                console.log(action + " given up after " + attempts + " attempts: " + code)
                if (kind === Kind.Start) await setMapping(kind, local, atS, 0)
            }
        }
        if (r && kind === Kind.Start) {
            await setMapping(kind, local, atS, r.transactionId)
            startAnswered(local, r)
        }
        if (r && kind === Kind.Stop) await setMapping(kind, local, atS, txId)
        if (r && r.idTagInfo && tag) await authCacheUpdate(tag, r.idTagInfo)
        attempts = 0
        await journalDrop()
    }
}

/**
 * UnlockConnector (OCPP 1.6 §5.18): socket variants end the transaction (UnlockCommand)
 * and release the plug; a fixed cable has nothing to unlock (TC_017_2, TC_018_2).
 */
export async function txUnlock(connectorId: number) {
    if (!txEnv.hw.socketOutlet || connectorId !== 1) return "NotSupported"
    endTransaction("UnlockCommand")
    lockWanted = lockApplied = false
    return (await txEnv.hw.setConnectorLock(false)) ? "Unlocked" : "UnlockFailed"
}

/** MeterValues on request (TriggerMessage): sent now, not journalled. */
export async function sendTriggeredMeterValues() {
    const p: any = { connectorId: 1, meterValue: [sampleToMeterValue(captureSample(configGet("MeterValuesSampledData"), Ctx.Trigger), 0)] }
    if (cp.txActive && cp.txConfirmed) p.transactionId = cp.transactionId
    await rpcCall("MeterValues", p)
}

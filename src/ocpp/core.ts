// OCPP 1.6 Core profile: registration (BootNotification), Heartbeat, connector status,
// authorisation, transactions and meter values, plus the central system's Core requests.
//
// The charge point's own messages are all sent from one fiber (coreService, called by
// the outbox loop), one CALL at a time; incoming requests are answered by
// coreHandleCall from the link fiber and only set state for that loop to act on.
import * as ds from "@devicescript/core"
import { rpcCall, rpcSetAcceptCalls, rpcAfterReply, CallError, rpcLastAnswerMs } from "./rpc"
import { link, linkReconnect } from "./link"
import { wsSetPingInterval } from "./ws"
import { nowIso, setWallClock } from "../util/clock"
import { parseIso8601 } from "../util/iso8601"
import { configInt, configGet, configBool, configChange, configSet, configNames, configAccess } from "../store/config"
import { IecController } from "../evse/iec"
import { CpState, currentForDutyPermille, MIN_CURRENT_A } from "../evse/pilot"
import { EnergyMeter } from "../evse/meter"
import { Hardware } from "../hal/hardware"
import { uidToIdTag } from "../hal/mfrc522"
import { hex16 } from "../util/encoding"
import { toJson } from "../util/json"
import { offeredLimitA, setLimit, clearLimit, Slot } from "../evse/limits"
import { storeReadText, storeWriteText } from "../store/store"
import { localAuthHandleCall } from "./localauth"

export const VENDOR = "OpenWallbox"
/** Retry delay for BootNotification when the central system gave none (or a CALLERROR). */
const BOOT_RETRY_DEFAULT_S = 30
/** HeartbeatInterval values below this run at this (the seed: "accepts but executes 10"). */
const HEARTBEAT_MIN_S = 10
const CARD_COOLDOWN_MS = 2000
/** A closed contactor without energy flow for this long means the EV suspended charging. */
const EV_IDLE_MS = 10000

/**
 * Error table of the seed (§4.4), most severe first: "bit;errorCode;info". With several
 * bits at once the first one here is reported (errorCode, info) and vendorErrorCode
 * carries all of them.
 */
const ERROR_TABLE =
    "|0002;OtherError;Residual current detected" +
    "|0004;GroundFailure;" +
    "|0040;OverCurrentFailure;Severe over current" +
    "|0400;OtherError;PowerRelay fault (RelayError)" +
    "|0100;OtherError;Control pilot (-12V)" +
    "|0080;HighTemperature;" +
    "|0008;OverVoltage;" +
    "|0010;UnderVoltage;" +
    "|0020;OverCurrentFailure;" +
    "|1000;ConnectorLockFailure;E-Lock failure (Lock/Unlock/PPLine)" +
    "|0800;OtherError;Internal communication failure (CommError)" +
    "|0200;PowerMeterFailure;" +
    "|2000;OtherError;Missing phase" +
    "|4000;OtherError;Modbus communication lost (ModbusCommError)" +
    "|8000;OtherError;Offline storage error" +
    "|"

/** Live state of the charge point (one connector), read by the app and the display. */
export const cp = {
    /** "", "Pending", "Accepted" or "Rejected" */
    registration: "",
    /** OCPP status of connector 1 as last derived */
    status: "",
    statusSent: "",
    status0Sent: "",
    errorCode: "NoError",
    transactionId: 0,
    txIdTag: "",
    txStartWh: 0,
    txActive: false,
    /** idTag authorised for the next transaction, and until when (ds.millis) */
    authIdTag: "",
    authUntilMs: 0,
    finishing: false,
    available: true,
    lastCardMs: -100000,
    lastCard: "",
    /** what the display shows after a card: Accepted, Invalid, Blocked, ... */
    lastAuthResult: "",
    /** a transaction started or ended: persist the energy register now */
    boundary: false,
}

let hw: Hardware
let ctl: IecController
let meter: EnergyMeter
let nextBootMs = 0
let heartbeatDueMs = 0
let nextSampleMs = 0
let pendingCard = ""
let triggered = ""
/** End of the random delay of the running transaction (ds.millis), 0 for none. */
let delayUntilMs = 0
let resetDelayCancel = false
/** StopTransaction of a transaction that ended locally, until the central system has it. */
let pendingStop: any
/** Reset requested by the central system ("Hard"/"Soft"), carried out after the StopTransaction. */
let resetPending = ""
/** ChangeAvailability to Inoperative while a transaction runs (Scheduled). */
let unavailableAfterTx = false

export function coreInit(hardware: Hardware, controller: IecController, energy: EnergyMeter) {
    hw = hardware
    ctl = controller
    meter = energy
}

function plugged() {
    return ctl.evConnected()
}

function heartbeatIntervalMs() {
    return Math.max(HEARTBEAT_MIN_S, configInt("HeartbeatInterval")) * 1000
}

/** Link up or down (from the link fiber). */
export function coreLinkChanged(up: boolean) {
    if (up) {
        wsSetPingInterval(configInt("WebSocketPingInterval"))
        // after a drop: no new BootNotification once accepted (OCPP-J §5), resend status
        if (cp.registration === "Accepted") cp.statusSent = cp.status0Sent = ""
        else nextBootMs = 0
    }
}

/** Apply a configuration change live (HeartbeatInterval, WebSocketPingInterval...). */
export function coreConfigChanged(name: string) {
    if (name === "WebSocketPingInterval") wsSetPingInterval(configInt(name))
    else if (name === "HeartbeatInterval") heartbeatDueMs = ds.millis() + heartbeatIntervalMs()
    else if (name === "MeterValueSampleInterval") nextSampleMs = 0
}

// ---- status ----

/** The most severe fault of `bits` as [errorCode, info, vendorErrorCode (all bits)]. */
export function faultToError(bits: number): string[] {
    let at = 0
    while (bits && at < ERROR_TABLE.length - 1) {
        const end = ERROR_TABLE.indexOf("|", at + 1)
        const entry = ERROR_TABLE.slice(at + 1, end).split(";")
        if (bits & parseInt("0x" + entry[0])) return [entry[1], entry[2], hex16(bits)]
        at = end
    }
    return ["NoError", "", ""]
}

/** Connector status by priority cascade (Faulted > Unavailable > transaction > ...). */
export function deriveStatus(): string {
    if (ctl.fatalFaults()) return "Faulted"
    if (cp.txActive) {
        // contactor closed and energy flowing (or just closed): Charging; closed or
        // offered but the EV takes nothing: SuspendedEV; nothing offered: SuspendedEVSE
        if (ctl.contactor && (meter.powerW(ds.millis()) > 0 || ds.millis() - ctl.closedSinceMs < EV_IDLE_MS)) return "Charging"
        // an EV asking for ventilation (D) where there is none: the EVSE holds back
        if (ctl.evState === CpState.D && !ctl.ventilationAllowed) return "SuspendedEVSE"
        return ctl.permit && ctl.offerA >= MIN_CURRENT_A ? "SuspendedEV" : "SuspendedEVSE"
    }
    if (!cp.available) return "Unavailable"
    if (cp.finishing) return plugged() ? "Finishing" : "Available"
    if (plugged() || cp.authIdTag) return "Preparing"
    return "Available"
}

async function sendStatus(connectorId: number, status: string) {
    const err = connectorId ? faultToError(ctl.faults()) : ["NoError", "", ""]
    const p: any = { connectorId, errorCode: err[0], status, timestamp: nowIso() }
    if (err[1]) p.info = err[1]
    if (err[2]) {
        p.vendorId = VENDOR
        p.vendorErrorCode = err[2]
    }
    await rpcCall("StatusNotification", p)
}

async function statusService() {
    const s = deriveStatus()
    cp.status = s
    // connector 0 is the charge point as a whole: only its own failures count there
    const s0 = ctl.faults() & 0x0800 ? "Faulted" : cp.available ? "Available" : "Unavailable"
    if (s0 !== cp.status0Sent) {
        await sendStatus(0, s0)
        cp.status0Sent = s0
    }
    const key = s + ctl.faults()
    if (key !== cp.statusSent) {
        await sendStatus(1, s)
        cp.statusSent = key
    }
}

// ---- registration and heartbeat ----

async function bootService(): Promise<boolean> {
    if (cp.registration === "Accepted") return true
    const now = ds.millis()
    if (now < nextBootMs) return false
    let status = ""
    let intervalS = BOOT_RETRY_DEFAULT_S
    try {
        const r = await rpcCall("BootNotification", {
            chargePointVendor: VENDOR,
            chargePointModel: hw.model,
            chargePointSerialNumber: ds.deviceIdentifier("self"),
            firmwareVersion: ds._dcfgString("@version") || "dev",
        })
        status = r.status
        setWallClock(parseIso8601(r.currentTime))
        if (r.interval > 0) intervalS = r.interval
    } catch (e) {
        // CALLERROR or no answer: try again later (EVerest expects a retry)
        console.log("BootNotification failed: " + (e as CallError).code)
    }
    cp.registration = status
    // while Rejected the central system must not be answered (OCPP 1.6 §4.2.1)
    rpcSetAcceptCalls(status !== "Rejected")
    if (status === "Accepted") {
        if (intervalS !== configInt("HeartbeatInterval")) await configChange("HeartbeatInterval", "" + intervalS)
        heartbeatDueMs = ds.millis() + heartbeatIntervalMs()
        cp.statusSent = cp.status0Sent = ""
        return true
    }
    nextBootMs = ds.millis() + intervalS * 1000
    return false
}

// ---- security events (OCPP 1.6 security whitepaper; the seed's list plus our own) ----

/** Events waiting for an accepted registration, as "type|techInfo". */
let securityEvents: string[] = ["StartupOfTheDevice|"]

/** Queue a SecurityEventNotification (held until the central system accepted us). */
export function coreSecurityEvent(type: string, techInfo: string) {
    if (securityEvents.length < 16) securityEvents.push(type + "|" + techInfo)
}

async function securityService() {
    while (securityEvents.length) {
        const e = securityEvents[0]
        const bar = e.indexOf("|")
        const p: any = { type: e.slice(0, Math.min(bar, 50)), timestamp: nowIso() }
        if (bar + 1 < e.length) p.techInfo = e.slice(bar + 1, bar + 256)
        await rpcCall("SecurityEventNotification", p)
        securityEvents = securityEvents.slice(1)
    }
}

async function heartbeatService() {
    const now = ds.millis()
    // any answered CALL counts as activity (OCPP 1.6 §4.6)
    const due = Math.max(heartbeatDueMs, rpcLastAnswerMs + heartbeatIntervalMs())
    if (now < due && triggered.indexOf("Heartbeat") < 0) return
    const r = await rpcCall("Heartbeat", {})
    setWallClock(parseIso8601(r.currentTime))
    heartbeatDueMs = ds.millis() + heartbeatIntervalMs()
}

// ---- meter values ----

function sampledValue(measurand: string, context: string): any {
    const now = ds.millis()
    let v: number
    let unit: string
    if (measurand === "Energy.Active.Import.Register") {
        v = meter.energyWh()
        unit = "Wh"
    } else if (measurand === "Power.Active.Import") {
        v = meter.powerW(now)
        unit = "W"
    } else if (measurand === "Current.Offered") {
        v = currentForDutyPermille(ctl.dutyPermille())
        unit = "A"
    } else if (measurand === "Current.Import" && hw.measuresCurrentVoltage) {
        v = ctl.contactor ? Math.round(hw.currentMa / 100) / 10 : 0
        unit = "A"
    } else if (measurand === "Voltage" && hw.measuresCurrentVoltage) {
        v = Math.round(hw.voltageMv / 100) / 10
        unit = "V"
    } else return undefined
    const sv: any = { value: "" + v, context, measurand, unit }
    if (unit === "A" && measurand !== "Current.Offered") sv.phase = "L1"
    if (unit === "V") sv.phase = "L1-N"
    return sv
}

/** A MeterValue element with the measurands of a configuration key (CSL). */
export function meterValue(csl: string, context: string): any {
    const values: any[] = []
    const list = csl ? csl.split(",") : ["Energy.Active.Import.Register"]
    for (const m of list) {
        const sv = sampledValue(m, context)
        if (sv) values.push(sv)
    }
    return { timestamp: nowIso(), sampledValue: values }
}

async function meterService() {
    const intervalS = configInt("MeterValueSampleInterval")
    const wanted = triggered.indexOf("MeterValues") >= 0
    if (!wanted && (!cp.txActive || intervalS <= 0)) return
    const now = ds.millis()
    if (!wanted && now < nextSampleMs) return
    const p: any = {
        connectorId: 1,
        meterValue: [meterValue(configGet("MeterValuesSampledData"), wanted ? "Trigger" : "Sample.Periodic")],
    }
    if (cp.txActive) p.transactionId = cp.transactionId
    if (!wanted) nextSampleMs = now + intervalS * 1000
    await rpcCall("MeterValues", p)
}

// ---- authorisation and transactions ----

/** A card entered the reader's field (from the control loop). */
export function coreOnCard(uid: Buffer) {
    const tag = uidToIdTag(uid)
    const now = ds.millis()
    // one swipe = one event: the same card is ignored during the cooldown
    if (tag === cp.lastCard && now - cp.lastCardMs < CARD_COOLDOWN_MS) {
        cp.lastCardMs = now
        return
    }
    cp.lastCard = tag
    cp.lastCardMs = now
    pendingCard = tag
}

/** End the transaction now (meter and time taken now); StopTransaction follows. */
function endTransaction(reason: string) {
    pendingStop = {
        transactionId: cp.transactionId,
        idTag: cp.txIdTag,
        meterStop: meter.energyWh(),
        timestamp: nowIso(),
        reason,
    }
    cp.txActive = false
    cp.finishing = true
    cp.boundary = true
    delayUntilMs = 0
    // RandomDelayCancel holds for one transaction only (seed §6.2.1)
    resetDelayCancel = true
}

async function cardService() {
    const tag = pendingCard
    if (!tag) return
    pendingCard = ""
    if (cp.txActive) {
        // the card that started the transaction stops it
        if (tag === cp.txIdTag) endTransaction("Local")
        return
    }
    if (!cp.available || ctl.fatalFaults()) return
    const r = await rpcCall("Authorize", { idTag: tag })
    const status = r.idTagInfo.status
    cp.lastAuthResult = status
    if (status === "Accepted") {
        cp.authIdTag = tag
        cp.authUntilMs = ds.millis() + configInt("ConnectionTimeOut") * 1000
    }
}

async function startService() {
    if (cp.txActive || !cp.authIdTag) return
    if (!plugged()) {
        // no cable within ConnectionTimeOut: the authorisation lapses (TC_004_2)
        if (ds.millis() > cp.authUntilMs) cp.authIdTag = ""
        return
    }
    const startWh = meter.energyWh()
    const r = await rpcCall("StartTransaction", {
        connectorId: 1,
        idTag: cp.authIdTag,
        meterStart: startWh,
        timestamp: nowIso(),
    })
    cp.txActive = true
    cp.transactionId = r.transactionId
    cp.txIdTag = cp.authIdTag
    cp.txStartWh = startWh
    cp.authIdTag = ""
    cp.finishing = false
    cp.boundary = true
    nextSampleMs = ds.millis() + configInt("MeterValueSampleInterval") * 1000
    startRandomDelay()
    if (r.idTagInfo.status !== "Accepted") endTransaction("DeAuthorized")
}

/**
 * UK Smart Charge Points Regulations (seed §6.2.1): RandomDelay "duration,mode,enable"
 * holds charging back at the start of every transaction, for the duration (mode 1) or
 * a random part of it (mode 2), unless RandomDelayCancel.
 */
function startRandomDelay() {
    const rd = configGet("RandomDelay").split(",")
    const ms = parseInt(rd[0]) * 1000
    delayUntilMs = rd[2] === "1" ? ds.millis() + (rd[1] === "2" ? Math.randomInt(ms) : ms) : 0
}

async function stopService() {
    if (resetDelayCancel) {
        resetDelayCancel = false
        await configSet("RandomDelayCancel", "false")
    }
    if (!pendingStop) return
    await rpcCall("StopTransaction", pendingStop)
    pendingStop = undefined
}

/** Session decisions that need no network; then what the pilot/contactor machine may do. */
export function coreApplyPermission() {
    // EV unplugged: the transaction ends at once (StopTransactionOnEVSideDisconnect)
    const unplugged = ctl.evState === CpState.A
    if (cp.txActive && unplugged) endTransaction("EVDisconnected")
    if (cp.finishing && unplugged) cp.finishing = false
    // free vend (seed §4.3): no authorisation, the session runs under FreevendIdTag
    if (configBool("FreevendEnabled") && !cp.txActive && !cp.finishing && !cp.authIdTag && plugged() && cp.available) {
        cp.authIdTag = configGet("FreevendIdTag")
        cp.authUntilMs = ds.millis() + configInt("ConnectionTimeOut") * 1000
    }
    if (delayUntilMs > ds.millis() && !configBool("RandomDelayCancel")) setLimit(Slot.DelayCharge, 0)
    else clearLimit(Slot.DelayCharge)
    const allowed = (cp.txActive || cp.authIdTag !== "") && cp.available
    ctl.permit = allowed
    ctl.offerA = allowed ? offeredLimitA() : 0
    ctl.available = cp.available
    applyScheduledAvailability()
    cp.status = deriveStatus()
}

/**
 * One pass of the charge point's own messages, in priority order. Called by the outbox
 * loop; any failed CALL ends the pass (the next pass retries).
 */
export async function coreService() {
    coreApplyPermission()
    if (!link.connected) return
    try {
        if (!(await bootService())) return
        // StopTransaction of an ended transaction goes first: billing before status
        await stopService()
        await statusService()
        await cardService()
        await startService()
        coreApplyPermission()
        await meterService()
        await statusService()
        await securityService()
        await heartbeatService()
        if (triggered.indexOf("Status") >= 0) await triggeredStatus()
        if (triggered.indexOf("StatusNotification") >= 0) cp.statusSent = cp.status0Sent = ""
        triggered = ""
        if (resetPending && !pendingStop) await reset()
    } catch (e) {
        if (!(e instanceof CallError)) console.log("coreService: " + e)
    }
    coreApplyPermission()
}

// ---- requests from the central system ----

/** Firmware and diagnostics status on demand (TriggerMessage): no transfer runs, Idle. */
async function triggeredStatus() {
    if (triggered.indexOf("DiagnosticsStatusNotification") >= 0) await rpcCall("DiagnosticsStatusNotification", { status: "Idle" })
    if (triggered.indexOf("FirmwareStatusNotification") >= 0) await rpcCall("FirmwareStatusNotification", { status: "Idle" })
}

/** Reset after its StopTransaction went out: Soft closes the link first (seed §4.1). */
async function reset() {
    if (resetPending === "Soft") {
        // the link fiber closes the WebSocket (close handshake) at its next turn
        linkReconnect()
        await ds.sleep(2500)
    }
    // a hard reset reboots the device; the simulator can only restart the program
    if (resetPending === "Hard" && !ds.isSimulator()) ds.reboot()
    ds.restart()
}

/** Operative / Inoperative, persisted (it survives a reset and a power cut: TC_013, TC_034). */
async function setAvailable(available: boolean) {
    cp.available = available
    unavailableAfterTx = false
    await storeWriteText("av", available ? "1" : "0")
}

/** Restore the availability at boot. */
export async function coreLoad() {
    cp.available = (await storeReadText("av")) !== "0"
}

/** Inoperative scheduled during a transaction takes effect when it ends. */
function applyScheduledAvailability() {
    if (!unavailableAfterTx || cp.txActive) return
    unavailableAfterTx = false
    cp.available = false
    storeWriteText.start("av", "0")
}

/** RemoteStartTransaction (OCPP 1.6 §5.11; TC_010, TC_011, TC_026, TC_027). */
function remoteStart(p: any) {
    // a charging profile needs the Smart Charging profile, which this build does not list
    if ((p.connectorId !== undefined && p.connectorId !== 1) || p.chargingProfile || !cp.available || ctl.fatalFaults() || cp.txActive || cp.authIdTag)
        return { status: "Rejected" }
    rpcAfterReply(() => {
        if (configBool("AuthorizeRemoteTxRequests")) pendingCard = p.idTag
        else {
            cp.authIdTag = p.idTag
            cp.authUntilMs = ds.millis() + configInt("ConnectionTimeOut") * 1000
            cp.finishing = false
        }
    })
    return { status: "Accepted" }
}

/** Keys per WebSocket fragment of a GetConfiguration answer. */
const CONFIG_KEYS_PER_PART = 8

/**
 * GetConfiguration, streamed: the answer is built and sent a few keys at a time (all
 * keys as objects would take about 12 KB of heap). More keys than
 * GetConfigurationMaxKeys in one request: CALLERROR OccurenceConstraintViolation; no key
 * list: every key.
 */
function getConfiguration(p: any): () => Promise<string> {
    const asked: string[] = p.key && p.key.length ? p.key : undefined
    const keys = asked || configNames()
    const max = configInt("GetConfigurationMaxKeys")
    if (asked && asked.length > max) throw new CallError("OccurenceConstraintViolation", "at most " + max + " keys per request")
    const unknown: string[] = []
    let i = 0
    let any = false
    return async () => {
        if (i > keys.length) return undefined
        const out: string[] = [i ? "" : '{"configurationKey":[']
        for (let n = 0; n < CONFIG_KEYS_PER_PART && i < keys.length; n++) {
            const k = keys[i++]
            const access = configAccess(k)
            // write-only keys (AuthorizationKey) are never reported
            if (!access || access === "W") {
                if (asked) unknown.push(k)
                continue
            }
            out.push((any ? "," : "") + '{"key":' + toJson(k) + ',"readonly":' + (access === "R") + ',"value":' + toJson(configGet(k)) + "}")
            any = true
        }
        if (i === keys.length) {
            i++
            out.push("]" + (unknown.length ? ',"unknownKey":' + toJson(unknown) : "") + "}")
        }
        return out.join("")
    }
}

/** Handle a Core request; undefined when the action is not one of ours. */
export async function coreHandleCall(action: string, p: any): Promise<any> {
    switch (action) {
        case "GetConfiguration":
            return getConfiguration(p)
        case "ChangeConfiguration":
            return { status: await configChange(p.key, p.value) }
        case "RemoteStartTransaction":
            return remoteStart(p)
        case "RemoteStopTransaction":
            if (!cp.txActive || p.transactionId !== cp.transactionId) return { status: "Rejected" }
            rpcAfterReply(() => endTransaction("Remote"))
            return { status: "Accepted" }
        case "Reset":
            rpcAfterReply(() => {
                resetPending = p.type
                if (cp.txActive) endTransaction(p.type === "Hard" ? "HardReset" : "SoftReset")
            })
            return { status: "Accepted" }
        case "ChangeAvailability": {
            if (p.connectorId < 0 || p.connectorId > 1) return { status: "Rejected" }
            const operative = p.type === "Operative"
            if (operative === cp.available) {
                unavailableAfterTx = false
                return { status: "Accepted" }
            }
            if (!operative && cp.txActive) {
                unavailableAfterTx = true
                return { status: "Scheduled" }
            }
            await setAvailable(operative)
            return { status: "Accepted" }
        }
        case "UnlockConnector":
            // both boards have a fixed cable: nothing to unlock (seed §4.1, TC_017_2, TC_031)
            return { status: "NotSupported" }
        case "SendLocalList":
        case "GetLocalListVersion":
        case "ClearCache":
            return await localAuthHandleCall(action, p)
        case "DataTransfer":
            return { status: "UnknownVendorId" }
        case "TriggerMessage": {
            const m = p.requestedMessage
            if (p.connectorId !== undefined && (p.connectorId < 0 || p.connectorId > 1)) return { status: "Rejected" }
            if (m === "DiagnosticsStatusNotification" || m === "FirmwareStatusNotification") {
                rpcAfterReply(() => (triggered += m + ","))
                return { status: "Accepted" }
            }
            if (m === "BootNotification" || m === "Heartbeat" || m === "StatusNotification" || m === "MeterValues") {
                // the triggered message follows the answer (OCPP 1.6 §5.17)
                rpcAfterReply(() => {
                    if (m === "BootNotification") {
                        cp.registration = ""
                        nextBootMs = 0
                    } else triggered += m + ","
                })
                return { status: "Accepted" }
            }
            return { status: "NotImplemented" }
        }
    }
    return undefined
}

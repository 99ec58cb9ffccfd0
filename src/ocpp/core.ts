// OCPP 1.6 Core profile: registration (BootNotification), Heartbeat, connector status,
// authorisation, transactions and meter values, plus the central system's Core requests.
//
// The charge point's own messages are all sent from one fiber (coreService, called by
// the outbox loop), one CALL at a time; incoming requests are answered by
// coreHandleCall from the link fiber and only set state for that loop to act on.
import * as ds from "@devicescript/core"
import { rpcCall, rpcSetAcceptCalls, rpcAfterReply, CallError, rpcLastAnswerMs } from "./rpc"
import { endTransaction, journalService, sendTriggeredMeterValues, txIdle, txUnlock, txRestartSampling } from "./transaction"
import { journalCount } from "./journal"
import { link, linkReconnect } from "./link"
import { wsSetPingInterval } from "./ws"
import { nowIso, setWallClock, wallClockMs } from "../util/clock"
import { parseIso8601 } from "../util/iso8601"
import { configInt, configGet, configBool, configChange, configSet, configNames, configAccess } from "../store/config"
import { IecController } from "../evse/iec"
import { CpState, MIN_CURRENT_A } from "../evse/pilot"
import { EnergyMeter } from "../evse/meter"
import { Hardware } from "../hal/hardware"
import { uidToIdTag } from "../hal/mfrc522"
import { hex16 } from "../util/encoding"
import { toJson } from "../util/json"
import { offeredLimitA, setLimit, clearLimit, Slot } from "../evse/limits"
import { storeReadText, storeWriteText } from "../store/store"
import { dataTransferStatus, felicaBeforeAuthorize } from "./datatransfer"
import { localAuthHandleCall, authLocalLookup, authCacheUpdate } from "./localauth"

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
    /** the central system's id of the running transaction; -(local id + 1) until it is known */
    transactionId: 0,
    /** local id: sequence number of the transaction's StartTransaction record */
    txLocal: 0,
    txIdTag: "",
    txParent: "",
    txStartWh: 0,
    txActive: false,
    /** StartTransaction journalled (StartTransactionBeforeEnergyDelivered false: at the first closing) */
    txStartJournalled: false,
    /** StartTransaction.conf received */
    txConfirmed: false,
    /** the central system invalidated the idTag; txHeld once MaxEnergyOnInvalidId is reached */
    txInvalid: false,
    txHeld: false,
    /** idTag authorised for the next transaction, its parent, and until when (ds.millis) */
    authIdTag: "",
    authParent: "",
    authUntilMs: 0,
    finishing: false,
    available: true,
    lastCardMs: -100000,
    lastCard: "",
    /** what the display shows after a card: Accepted, Invalid, Blocked, ... */
    lastAuthResult: "",
    /** 0x8000 while the journal cannot write (the seed's "offline storage error") */
    storageFault: 0,
}

/** The devices transaction.ts measures and acts on. */
export const txEnv = { hw: undefined as Hardware, ctl: undefined as IecController, meter: undefined as EnergyMeter }

let hw: Hardware
let ctl: IecController
let meter: EnergyMeter
let nextBootMs = 0
let heartbeatDueMs = 0
let pendingCard = ""
let triggered = ""
/** End of the random delay of the running transaction (ds.millis), 0 for none. */
let delayUntilMs = 0
let resetDelayCancel = false
/** Reset requested by the central system ("Hard"/"Soft"), carried out after the StopTransaction. */
let resetPending = ""
/** ChangeAvailability to Inoperative while a transaction runs (Scheduled). */
let unavailableAfterTx = false
let resetDeadlineMs = 0
/** The time a graceful StopTransaction may take before a Reset goes ahead anyway. */
const RESET_STOP_WAIT_MS = 30000

export function coreInit(hardware: Hardware, controller: IecController, energy: EnergyMeter) {
    hw = hardware
    ctl = controller
    meter = energy
    txEnv.hw = hardware
    txEnv.ctl = controller
    txEnv.meter = energy
}

/** Registered and connected: the central system can answer now. */
function online() {
    return link.connected && cp.registration === "Accepted"
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
    else if (name === "MeterValueSampleInterval" || name === "ClockAlignedDataInterval") txRestartSampling()
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
        // the EV asks and may have power: the contactor closes within 0.5 s
        if (!ctl.contactor && ctl.evState === CpState.C && ctl.permit && ctl.offerA >= MIN_CURRENT_A) return "Charging"
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
    // StopTransactionOnEVSideDisconnect false: the transaction waits for the EV (TC_005_3)
    else if (connectorId && cp.txActive && !plugged()) p.info = "EV side disconnected"
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
    // ABBIdTag true (seed: third-party cards off): a random UID (4 bytes, first 0x08,
    // ISO/IEC 14443-3) is new at every tap — phone wallets, bank cards — and identifies nobody
    if (uid.length === 4 && uid[0] === 8 && configBool("ABBIdTag")) {
        cp.lastAuthResult = "Invalid"
        return
    }
    pendingCard = tag
}

/**
 * What the charge point can say of an idTag (an idTagInfo), or undefined when it cannot
 * decide (offline and unknown). Online: Authorize, unless LocalPreAuthorize finds it
 * Accepted in the local list or cache. Offline (or no answer): the local list and cache
 * when LocalAuthorizeOffline; unknown ids when AllowOfflineTxForUnknownId.
 */
async function authorize(tag: string): Promise<any> {
    const local = await authLocalLookup(tag, Math.floor(wallClockMs() / 1000))
    const localOk = local && local.status === "Accepted"
    if (online()) {
        if (localOk && configBool("LocalPreAuthorize")) return local
        try {
            // FeliCa cards: the seed's EneKeyData goes first (its answer is ignored)
            await felicaBeforeAuthorize(hw.felica, tag)
            const r = await rpcCall("Authorize", { idTag: tag })
            await authCacheUpdate(tag, r.idTagInfo)
            return r.idTagInfo
        } catch (e) {
            const code = (e as CallError).code
            // a CALLERROR is an answer: no authorisation; only silence falls back to offline rules
            if (code !== "Timeout" && code !== "NotConnected") return { status: "Invalid" }
        }
    }
    if (local) return configBool("LocalAuthorizeOffline") ? local : undefined
    return configBool("AllowOfflineTxForUnknownId") ? { status: "Accepted" } : undefined
}

async function cardService() {
    const tag = pendingCard
    if (!tag) return
    pendingCard = ""
    if (cp.txActive) {
        if (tag === cp.txIdTag) return endTransaction("Local", tag)
        // StopChargingOnlyWithSameCard false: the seed's two-card rule, any accepted card
        // stops the session; true: OCPP's rule, only a card of the same group
        // (parentIdTag) may (TC_068: no group, no Authorize; TC_069)
        const sameOnly = configBool("StopChargingOnlyWithSameCard")
        if (sameOnly && !cp.txParent) {
            cp.lastAuthResult = "NotSameCard"
            return
        }
        const other = await authorize(tag)
        cp.lastAuthResult = other ? other.status : "Unknown"
        if (other && other.status === "Accepted" && cp.txActive && (!sameOnly || other.parentIdTag === cp.txParent)) endTransaction("Local", tag)
        return
    }
    // free vend: the session needs no card
    if (!cp.available || ctl.fatalFaults() || freeVend()) return
    const info = await authorize(tag)
    cp.lastAuthResult = info ? info.status : "Unknown"
    if (info && info.status === "Accepted") {
        cp.authIdTag = tag
        cp.authParent = info.parentIdTag || ""
        cp.authUntilMs = ds.millis() + configInt("ConnectionTimeOut") * 1000
        cp.finishing = false
    }
}

/** Free vend (seed §4.3), or offline with AuthReqInOfflineMode false. */
function freeVend() {
    return configBool("FreevendEnabled") || (!configBool("AuthReqInOfflineMode") && !online())
}

/**
 * UK Smart Charge Points Regulations (seed §6.2.1): RandomDelay "duration,mode,enable"
 * holds charging back at the start of every transaction, for the duration (mode 1) or
 * a random part of it (mode 2), unless RandomDelayCancel.
 */
export function coreTxBegan() {
    const rd = configGet("RandomDelay").split(",")
    const ms = parseInt(rd[0]) * 1000
    delayUntilMs = rd[2] === "1" ? ds.millis() + (rd[1] === "2" ? Math.randomInt(ms) : ms) : 0
}

/** A transaction ended: the random delay and RandomDelayCancel hold for one transaction only. */
export function coreTxEnded() {
    delayUntilMs = 0
    resetDelayCancel = true
}

async function delayCancelService() {
    if (resetDelayCancel) {
        resetDelayCancel = false
        await configSet("RandomDelayCancel", "false")
    }
}

/** Session decisions that need no network; then what the pilot/contactor machine may do. */
export function coreApplyPermission() {
    // EV unplugged: the transaction ends (StopTransactionOnEVSideDisconnect), else it is
    // suspended until the EV is back or it is stopped otherwise
    const unplugged = ctl.evState === CpState.A
    if (cp.txActive && unplugged && configBool("StopTransactionOnEVSideDisconnect")) endTransaction("EVDisconnected")
    if (cp.finishing && unplugged) cp.finishing = false
    // no cable within ConnectionTimeOut: the authorisation lapses (TC_004_2)
    if (!cp.txActive && cp.authIdTag && !plugged() && ds.millis() > cp.authUntilMs) cp.authIdTag = ""
    // free vend: no authorisation, the session runs under FreevendIdTag
    if (freeVend() && !cp.txActive && !cp.finishing && !cp.authIdTag && plugged() && cp.available) {
        cp.authIdTag = configGet("FreevendIdTag")
        cp.authParent = ""
        cp.authUntilMs = ds.millis() + configInt("ConnectionTimeOut") * 1000
    }
    if (delayUntilMs > ds.millis() && !configBool("RandomDelayCancel")) setLimit(Slot.DelayCharge, 0)
    else clearLimit(Slot.DelayCharge)
    // PWMAfterStartTransaction: no PWM before StartTransaction.conf (when there is anyone to answer)
    const waitStart = configBool("PWMAfterStartTransaction") && configBool("StartTransactionBeforeEnergyDelivered") && online() && !cp.txConfirmed
    const allowed = (cp.txActive || cp.authIdTag !== "") && cp.available && !waitStart && !cp.txHeld
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
    try {
        const up = link.connected && (await bootService())
        // transaction messages go first, in order: billing before status
        if (up) await journalService()
        await delayCancelService()
        if (up) await statusService()
        // cards are decided offline too (local list, cache, offline rules)
        await cardService()
        coreApplyPermission()
        if (!up) return
        await statusService()
        await securityService()
        await heartbeatService()
        if (triggered.indexOf("Status") >= 0) await triggeredStatus()
        if (triggered.indexOf("StatusNotification") >= 0) cp.statusSent = cp.status0Sent = ""
        if (triggered.indexOf("MeterValues") >= 0) await sendTriggeredMeterValues()
        triggered = ""
        // a reset waits for the StopTransaction: journalled, and delivered when possible
        if (resetPending && txIdle() && (!journalCount() || ds.millis() > resetDeadlineMs)) await reset()
    } catch (e) {
        if (!(e instanceof CallError)) console.log("coreService: " + e)
    } finally {
        coreApplyPermission()
    }
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
                resetDeadlineMs = ds.millis() + RESET_STOP_WAIT_MS
                endTransaction(p.type === "Hard" ? "HardReset" : "SoftReset")
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
            return { status: await txUnlock(p.connectorId) }
        case "SendLocalList":
        case "GetLocalListVersion":
        case "ClearCache":
            return await localAuthHandleCall(action, p)
        case "DataTransfer":
            return { status: dataTransferStatus(p, cp.transactionId, cp.txActive) }
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

// The wallbox: wires a board (Hardware) to the pilot/contactor machine and to OCPP.
//
// Three fibers:
// - control loop (every CONTROL_PERIOD_MS): pilot, contactor, meter, card reader —
//   never waits on the network, so the safety timings hold whatever the link does;
// - link: connection to the central system, receives and answers its requests;
// - outbox: the charge point's own messages, one CALL at a time.
import * as ds from "@devicescript/core"
import { digest } from "@devicescript/crypto"
import { Hardware } from "./hal/hardware"
import { IecController } from "./evse/iec"
import { cpStateName, pilotStateFromMillivolts, currentForDutyPermille } from "./evse/pilot"
import { EnergyMeter } from "./evse/meter"
import { S0Counter, pollS0 } from "./hal/s0"
import { linkRun, link, linkReconnect, LinkTarget } from "./ocpp/link"
import { rpcOnCall } from "./ocpp/rpc"
import { txTick, txLoad } from "./ocpp/transaction"
import { journalLoad, journalCount } from "./ocpp/journal"
import {
    cp,
    coreInit,
    coreService,
    coreHandleCall,
    coreOnCard,
    coreLinkChanged,
    coreConfigChanged,
    coreSecurityEvent,
    coreApplyPermission,
    coreLoad,
} from "./ocpp/core"
import { configLoad, configGet, configSet, configBool, configOnChange, configInt, configDefaults, configSetProviders } from "./store/config"
import { storeReadText, storeWriteText, storeStats, storeOnCorrupt } from "./store/store"
import { base64Encode, hexDecode } from "./util/encoding"
import { Slot, setLimit, limitedBy, limitedChannels } from "./evse/limits"
import { priceScreen } from "./ocpp/datatransfer"
import { localAuthLoad } from "./ocpp/localauth"

export const CONTROL_PERIOD_MS = 20
const CARD_POLL_EVERY = 5
const OUTBOX_PERIOD_MS = 200

let hw: Hardware
const ctl = new IecController()
const meter = new EnergyMeter()
const s0 = new S0Counter()
const outboxWake = ds.emitter<number>()

/** Charge point identity (the last segment of the OCPP URL), from provisioning. */
let chargePointId: string

/** Apply the installer's provisioning when it changed since it was last applied. */
async function provision() {
    const p = await hw.provisioning()
    if (p) {
        const fingerprint = digest("sha256", p.url + "\n" + p.chargePointId + "\n" + p.authorizationKey)
            .slice(0, 8)
            .toString("hex")
        if ((await storeReadText("prov")) !== fingerprint) {
            // a new commissioning overrides what OCPP changed since the last one
            await storeWriteText("id", p.chargePointId)
            await configSet("CentralSystemURL", p.url)
            await configSet("AuthorizationKey", p.authorizationKey)
            await storeWriteText("prov", fingerprint)
        }
    }
    chargePointId = await storeReadText("id")
}

async function linkTarget(): Promise<LinkTarget> {
    if (!chargePointId || !configGet("CentralSystemURL")) await provision()
    const base = configGet("CentralSystemURL")
    if (!chargePointId || !base) return undefined
    const key = configGet("AuthorizationKey")
    // 32-40 hex digits are the key's 16-20 bytes (1.6 security whitepaper); else its text
    const keyBytes = key.length >= 32 ? hexDecode(key) || Buffer.from(key) : Buffer.from(key)
    return {
        // OCPP-J §3.1: the charge point id is the last path segment of the URL
        url: base + (base[base.length - 1] === "/" ? "" : "/") + chargePointId,
        authorization:
            key && configBool("HTTPBasicAuthEnable")
                ? "Basic " + base64Encode(Buffer.concat(Buffer.from(chargePointId + ":"), keyBytes))
                : undefined,
    }
}

async function controlLoop() {
    let tick = 0
    let cardPresent = ""
    let appliedContactor = false
    await hw.setContactor(false)
    for (;;) {
        const started = ds.millis()
        await hw.samplePilot()
        const raw = pilotStateFromMillivolts(hw.pilotHighMv, hw.pilotLowMv, ctl.dutyPermille() > 0)
        ctl.boardFaults = (await hw.faultBits()) | cp.storageFault
        ctl.step(started, raw, await hw.contactorClosed())
        // opening the contactor comes first: it is the safety-relevant output
        if (ctl.contactor !== appliedContactor) {
            await hw.setContactor(ctl.contactor)
            appliedContactor = ctl.contactor
        }
        await hw.setPilot(ctl.pilotLevel)
        meter.update(s0.pulses, started)
        if (++tick % CARD_POLL_EVERY === 0) {
            const uid = await hw.readCard()
            // a card arriving, or another card replacing it in the field
            const id = uid ? uid.toString("hex") : ""
            if (id && id !== cardPresent) {
                coreOnCard(uid)
                outboxWake.emit(0)
            }
            cardPresent = id
        }
        const left = CONTROL_PERIOD_MS - (ds.millis() - started)
        await ds.sleep(left > 1 ? left : 1)
    }
}

function statusLine() {
    const o: any = {
        s: cp.status,
        cp: cpStateName(ctl.state),
        a: currentForDutyPermille(ctl.dutyPermille()),
        k: ctl.contactor ? 1 : 0,
        e: meter.energyWh(),
        p: s0.pulses,
        fw: storeStats.writes,
        fb: storeStats.bytes,
        w: meter.powerW(ds.millis()),
        tx: cp.txActive ? cp.transactionId : null,
        tag: cp.txActive ? cp.txIdTag : cp.authIdTag,
        on: link.connected ? 1 : 0,
        r: cp.registration,
        f: ctl.faults(),
        au: cp.lastAuthResult,
        j: journalCount(),
    }
    return JSON.stringify(o)
}

async function outboxLoop() {
    for (;;) {
        await ds.wait(outboxWake, OUTBOX_PERIOD_MS)
        await coreService()
    }
}

/**
 * Everything that must go on while the outbox waits for an answer (up to 30 s): session
 * decisions, the energy register in flash, the meter, the display.
 */
async function housekeepingLoop() {
    for (;;) {
        await ds.sleep(OUTBOX_PERIOD_MS)
        coreApplyPermission()
        await hw.sampleMeter()
        // transactions, meter values, the register in flash (no network here)
        try {
            await txTick()
        } catch (e) {
            console.log("txTick: " + e)
        }
        await hw.showStatus(link.connected ? cp.status : "Offline", statusLine())
        if (hw.showPrice) {
            const tag = cp.txActive ? cp.txIdTag : cp.authIdTag
            await hw.showPrice(priceScreen(link.connected, ctl.evConnected(), tag, cp.transactionId, cp.txActive))
        }
    }
}

/** Configuration the hardware layer follows (applied at boot and on every change). */
function applyHardwareConfig() {
    ctl.ventilationAllowed = configBool("VentilationAvailable")
    const nfc = configGet("ChangeNFCPower").split(",")
    hw.setCardReader(parseInt(nfc[0]), nfc[1] === "1")
    setLimit(Slot.Rated, hw.ratedCurrentA)
    setLimit(Slot.UserSet, Math.min(configInt("UserSetMaxCurrent"), hw.ratedCurrentA))
}

/** Values of the configuration that come from the board, and the live read-only keys. */
function configFromBoard() {
    configDefaults["$P"] = hw.phases === 1 ? "0.NotApplicable,1.NotApplicable" : "0.Unknown,1.Unknown"
    configDefaults["$D"] = hw.hasDisplay ? "16" : "3"
    configDefaults["$S"] = ds.deviceIdentifier("self")
    configDefaults["$R"] = "" + hw.ratedCurrentA
    configSetProviders(
        which => (which === "@B" ? limitedBy() : limitedChannels()),
        // ActiveSolarMode "can only be changed during charging" (seed §4.3)
        name => name !== "ActiveSolarMode" || cp.txActive
    )
}

/** Start the wallbox on a board. Returns once every fiber runs. */
export async function startWallbox(board: Hardware) {
    hw = board
    // a record that fails its check falls back to its default, and the operator hears of it
    storeOnCorrupt(key => coreSecurityEvent("InvalidSettingsRecord", "flash record " + key + " failed its CRC check"))
    configFromBoard()
    await configLoad()
    meter.impPerKwh = hw.s0ImpPerKwh
    coreInit(hw, ctl, meter)
    await localAuthLoad()
    await coreLoad()
    // the journal first: a transaction a power cut interrupted is closed into it
    await journalLoad()
    await txLoad()
    configOnChange(name => {
        coreConfigChanged(name)
        applyHardwareConfig()
        if (name === "CentralSystemURL" || name === "AuthorizationKey" || name === "HTTPBasicAuthEnable") linkReconnect()
    })
    applyHardwareConfig()
    rpcOnCall(coreHandleCall)
    await provision()
    pollS0.start(async () => await hw.s0Level(), s0)
    controlLoop.start()
    linkRun.start(linkTarget, (up: boolean) => {
        coreLinkChanged(up)
        outboxWake.emit(0)
    })
    outboxLoop.start()
    housekeepingLoop.start()
}

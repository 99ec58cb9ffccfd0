// The transaction journal: messages survive a lost central system and a power cut, are
// delivered in order with the central system's transaction id, exactly once (OCA TC_036,
// TC_037_x, TC_038, TC_039 offline; power loss and retries as OCPP 1.6 §4.7 and the
// seed describe them; EVerest offline cases).
import { test } from "node:test"
import assert from "node:assert/strict"
import { startBench, bootToAvailable, waitFor, sleep } from "./harness.mjs"
import { createRPCError } from "../../tools/csms/csms.mjs"

const TX_ACTIONS = ["StartTransaction", "MeterValues", "StopTransaction"]
/** Transaction messages the central system received, in order. */
const txMessages = b => b.csms.messages({ dir: "in", type: 2, identity: b.id }).filter(m => TX_ACTIONS.includes(m.action))
/** The answer the central system gave to a CALL. */
const answerTo = (b, m) => b.csms.messages({ dir: "out", type: 3, identity: b.id }).find(a => a.id === m.id)

async function configure(b, pairs) {
    for (const [key, value] of Object.entries(pairs)) assert.deepEqual(await b.call("ChangeConfiguration", { key, value }), { status: "Accepted" }, key)
}

/** One session: EV charging, a card, some energy, unplug. Returns the state after it. */
async function session(b, uid, chargeMs = 1500) {
    await b.api("POST", "/api/ev/charge", { maxCurrentA: 16 })
    await b.api("POST", "/api/rfid", { uid })
    await b.until(s => s.contactorClosed && s.transactionId !== null, `charging (${uid})`)
    await sleep(chargeMs)
    await b.api("POST", "/api/ev/unplug")
    return await b.until(s => s.transactionId === null && !s.contactorClosed, `session of ${uid} ended`)
}

/** Check that the messages form complete transactions, in order, each once, with the central system's ids. */
function assertTransactions(b, count) {
    const msgs = txMessages(b)
    const txs = []
    let open
    for (const m of msgs) {
        if (m.action === "StartTransaction") {
            assert.equal(open, undefined, "StartTransaction before the previous StopTransaction")
            open = { start: m, id: answerTo(b, m).payload.transactionId, meterValues: [] }
        } else if (m.action === "MeterValues" && m.payload.transactionId !== undefined) {
            assert.ok(open, "MeterValues outside a transaction")
            assert.equal(m.payload.transactionId, open.id)
            open.meterValues.push(m)
        } else if (m.action === "StopTransaction") {
            assert.ok(open, "StopTransaction without StartTransaction")
            assert.equal(m.payload.transactionId, open.id, "StopTransaction with the wrong transaction id")
            open.stop = m
            txs.push(open)
            open = undefined
        }
    }
    assert.equal(txs.length, count, "complete transactions")
    assert.equal(new Set(txs.map(t => t.id)).size, count, "duplicated transactions")
    return txs
}

test("TC_039 the central system unreachable for a whole session: Start, MeterValues, Stop delivered in order once back", async () => {
    const b = await startBench()
    try {
        await bootToAvailable(b)
        await configure(b, { AllowOfflineTxForUnknownId: "true", MeterValueSampleInterval: "4", StopTxnSampledData: "Energy.Active.Import.Register,Power.Active.Import" })
        await b.api("POST", "/api/network/drop")
        await b.until(s => !s.ocppConnected, "offline")
        await b.api("POST", "/api/ev/charge", { maxCurrentA: 16 })
        await b.api("POST", "/api/rfid", { uid: "04AA0001" })
        const charging = await b.until(s => s.contactorClosed && s.connectorStatus === "Charging", "charging offline")
        // a local id until the central system gives one
        assert.ok(charging.transactionId < 0, `local id ${charging.transactionId}`)
        await sleep(9000)
        await b.api("POST", "/api/ev/unplug")
        const ended = await b.until(s => s.transactionId === null && !s.contactorClosed, "ended offline")
        assert.equal(txMessages(b).length, 0)

        await b.api("POST", "/api/network/restore")
        await b.message("StopTransaction", 1, 60000)
        const [tx] = assertTransactions(b, 1)
        // unknown id allowed offline: no Authorize afterwards either
        assert.equal(b.csms.messages({ action: "Authorize", identity: b.id }).length, 0)
        assert.equal(tx.start.payload.idTag, "04AA0001")
        // offline samples are packed: one MeterValues carries several meterValue elements
        const samples = tx.meterValues.flatMap(m => m.payload.meterValue)
        assert.ok(samples.length >= 2, `sampled values: ${samples.length}`)
        assert.ok(tx.meterValues.length < samples.length, "offline samples were not packed")
        const times = [tx.start.payload.timestamp, ...samples.map(v => v.timestamp), tx.stop.payload.timestamp]
        assert.deepEqual([...times].sort(), times, "timestamps out of order")
        // ChargeRecordUseTotalEnergy false (seed): the record counts from zero
        assert.equal(tx.start.payload.meterStart, 0)
        assert.ok(tx.stop.payload.meterStop > 0 && tx.stop.payload.meterStop <= ended.energyWh)
        assert.equal(tx.stop.payload.reason, "EVDisconnected")
        const ctx = tx.stop.payload.transactionData.map(mv => mv.sampledValue[0].context)
        assert.deepEqual(ctx, ["Transaction.Begin", "Transaction.End"])
        assert.deepEqual(tx.stop.payload.transactionData[1].sampledValue.map(v => v.measurand), ["Energy.Active.Import.Register", "Power.Active.Import"])
        const s = await b.state()
        assert.equal(s.firmwareFaults & 0x8000, 0)
        b.assertClean()
    } finally {
        await b.stop()
    }
})

test("power cut (kill -9) during charging: StopTransaction PowerLoss after the restart, no duplicate", async () => {
    const b = await startBench()
    try {
        await bootToAvailable(b)
        await b.api("POST", "/api/ev/charge", { maxCurrentA: 16 })
        await b.api("POST", "/api/rfid", { uid: "04AA0002" })
        const start = await b.message("StartTransaction")
        const charging = await b.until(s => s.contactorClosed && s.transactionId > 0, "charging")
        await sleep(3000)
        const before = await b.state()
        await b.api("POST", "/api/power/cut")
        await sleep(500)
        await b.api("POST", "/api/power/on")
        const stop = await b.message("StopTransaction", 1, 40000)
        assert.equal(stop.payload.reason, "PowerLoss")
        assert.equal(stop.payload.transactionId, charging.transactionId)
        // the last persisted register (every 100 Wh and at the start), never more than delivered
        assert.ok(stop.payload.meterStop >= 0 && stop.payload.meterStop <= before.energyWh - start.payload.meterStart + 1)
        await b.until(s => s.registration === "Accepted" && s.transactionId === null, "no transaction after the restart")
        await sleep(2000)
        assertTransactions(b, 1)
        assert.equal(b.csms.messages({ action: "StopTransaction", identity: b.id }).filter(m => m.type === 2).length, 1)
        b.assertClean()
    } finally {
        await b.stop()
    }
})

test("15 back-to-back sessions offline, a power cut among them: all delivered in order, each once", async () => {
    const b = await startBench()
    try {
        await bootToAvailable(b)
        await configure(b, { AllowOfflineTxForUnknownId: "true" })
        await b.api("POST", "/api/network/drop")
        await b.until(s => !s.ocppConnected, "offline")
        const tags = []
        for (let i = 0; i < 15; i++) {
            const uid = "04BB" + String(i).padStart(4, "0")
            tags.push(uid)
            await session(b, uid, 300)
            if (i === 7) {
                // the journal is in flash: a cut between sessions loses nothing
                await b.api("POST", "/api/power/cut")
                await b.api("POST", "/api/power/on")
                await b.until(s => s.connectorStatus === "Offline" || s.connectorStatus === "Available", "restarted", 30000)
            }
        }
        await b.api("POST", "/api/network/restore")
        await b.message("StopTransaction", 15, 120000)
        const txs = assertTransactions(b, 15)
        assert.deepEqual(txs.map(t => t.start.payload.idTag), tags)
        b.assertClean()
    } finally {
        await b.stop()
    }
})

test("OCPP 1.6 §4.7 CALLERROR for StopTransaction: retried TransactionMessageAttempts times at RetryInterval × attempt, then given up", async () => {
    let failing = 2
    const b = await startBench({
        csms: {
            handlers: {
                StopTransaction: () => {
                    if (failing-- > 0) throw createRPCError("InternalError", "database busy")
                    return {}
                },
            },
        },
    })
    try {
        await bootToAvailable(b)
        await configure(b, { TransactionMessageAttempts: "3", TransactionMessageRetryInterval: "1" })
        await session(b, "04AA0003")
        const third = await b.message("StopTransaction", 3, 20000)
        const stops = b.csms.messages({ action: "StopTransaction", dir: "in", type: 2, identity: b.id })
        const gap = i => Date.parse(stops[i].time) - Date.parse(stops[i - 1].time)
        assert.ok(gap(1) >= 900, `first retry after 1 s (${gap(1)} ms)`)
        assert.ok(gap(2) >= 1900, `second retry after 2 s (${gap(2)} ms)`)
        assert.deepEqual(answerTo(b, third).payload, {})
        // now every StopTransaction fails: after one attempt it is given up, the journal moves on
        await configure(b, { TransactionMessageAttempts: "1" })
        failing = 1000
        await session(b, "04AA0004")
        await b.message("StopTransaction", 4, 20000)
        await sleep(2500)
        assert.equal(b.csms.messages({ action: "StopTransaction", dir: "in", type: 2, identity: b.id }).length, 4)
        await b.call("TriggerMessage", { requestedMessage: "MeterValues", connectorId: 1 })
        await waitFor(() => b.csms.messages({ action: "MeterValues", identity: b.id }).find(m => m.payload.meterValue[0].sampledValue[0].context === "Trigger"), { what: "triggered MeterValues" })
    } finally {
        await b.stop()
    }
})

test("TC_037_3/TC_037_2: StartTransaction.conf Invalid stops the session (DeAuthorized); with StopTransactionOnInvalidId false it is held after MaxEnergyOnInvalidId", async () => {
    let nextId = 500
    const b = await startBench({ csms: { handlers: { StartTransaction: () => ({ transactionId: nextId++, idTagInfo: { status: "Invalid" } }) } } })
    try {
        await bootToAvailable(b)
        await b.api("POST", "/api/ev/charge", { maxCurrentA: 16 })
        await b.api("POST", "/api/rfid", { uid: "04AA0005" })
        const stop = await b.message("StopTransaction", 1, 20000)
        assert.equal(stop.payload.reason, "DeAuthorized")
        assert.equal(stop.payload.transactionId, 500)
        await b.api("POST", "/api/ev/unplug")
        await b.until(s => s.connectorStatus === "Available", "Available")

        await configure(b, { StopTransactionOnInvalidId: "false", MaxEnergyOnInvalidId: "0" })
        await b.api("POST", "/api/ev/charge", { maxCurrentA: 16 })
        await b.api("POST", "/api/rfid", { uid: "04AA0015" })
        await b.message("StartTransaction", 2)
        const held = await b.until(s => s.transactionId === 501 && !s.contactorClosed && s.connectorStatus === "SuspendedEVSE", "held", 15000)
        assert.equal(held.pwmDutyPercent, 100)
        assert.equal(b.csms.messages({ action: "StopTransaction", dir: "in", identity: b.id }).length, 1)
        await b.api("POST", "/api/ev/unplug")
        const stop2 = await b.message("StopTransaction", 2)
        assert.equal(stop2.payload.reason, "EVDisconnected")
        b.assertClean()
    } finally {
        await b.stop()
    }
})

test("StartTransactionBeforeEnergyDelivered false: StartTransaction at the first closing, none for a session without energy; ChargeRecordUseTotalEnergy true", async () => {
    const b = await startBench()
    try {
        await bootToAvailable(b)
        await configure(b, { StartTransactionBeforeEnergyDelivered: "false", ChargeRecordUseTotalEnergy: "true" })
        await session(b, "04AA0006", 2000)
        const start = await b.message("StartTransaction")
        const stop = await b.message("StopTransaction")
        const s = await b.state()
        // cumulative register values
        assert.ok(start.payload.meterStart >= 0)
        assert.equal(stop.payload.meterStop, s.energyWh)
        // the EV never asks for power: no transaction reaches the central system
        await b.api("POST", "/api/ev/plug")
        await b.api("POST", "/api/rfid", { uid: "04AA0007" })
        await b.until(s => s.transactionId !== null, "session begun")
        await sleep(1500)
        await b.api("POST", "/api/ev/unplug")
        await b.until(s => s.transactionId === null && s.connectorStatus === "Available", "ended")
        await sleep(1500)
        assert.equal(b.csms.messages({ action: "StartTransaction", dir: "in", identity: b.id }).length, 1)
        b.assertClean()
    } finally {
        await b.stop()
    }
})

test("PWMAfterStartTransaction: no PWM until StartTransaction.conf", async () => {
    let nextId = 700
    const b = await startBench({
        csms: {
            handlers: {
                StartTransaction: async () => {
                    await sleep(3000)
                    return { transactionId: nextId++, idTagInfo: { status: "Accepted" } }
                },
            },
        },
    })
    try {
        await bootToAvailable(b)
        await configure(b, { PWMAfterStartTransaction: "true" })
        await b.api("POST", "/api/ev/plug")
        await b.api("POST", "/api/rfid", { uid: "04AA0008" })
        await b.message("StartTransaction")
        await sleep(1000)
        assert.equal((await b.state()).pwmDutyPercent, 100, "PWM before StartTransaction.conf")
        await b.until(s => s.transactionId === 700 && s.pwmDutyPercent > 0 && s.pwmDutyPercent < 100, "PWM after the answer", 10000)
        b.assertClean()
    } finally {
        await b.stop()
    }
})

test("TC_005_3 StopTransactionOnEVSideDisconnect false: unplugging suspends (info \"EV side disconnected\"), no values while suspended (MeterValueReportOnSuspendedEV false); TC_068 StopChargingOnlyWithSameCard; the seed's two-card rule", async () => {
    const b = await startBench()
    try {
        await bootToAvailable(b)
        await configure(b, { StopTransactionOnEVSideDisconnect: "false", StopChargingOnlyWithSameCard: "true" })
        await b.api("POST", "/api/ev/charge", { maxCurrentA: 16 })
        await b.api("POST", "/api/rfid", { uid: "04AA0009" })
        const charging = await b.until(s => s.contactorClosed && s.transactionId > 0, "charging")
        await b.api("POST", "/api/ev/unplug")
        await b.until(s => !s.contactorClosed && s.connectorStatus === "SuspendedEV", "suspended")
        await waitFor(() => b.csms.messages({ action: "StatusNotification", dir: "in", identity: b.id }).find(m => m.payload.status === "SuspendedEV" && m.payload.info === "EV side disconnected"), { what: "SN SuspendedEV with info" })
        // MeterValueReportOnSuspendedEV false: no periodic values while the EV takes nothing
        await configure(b, { MeterValueReportOnSuspendedEV: "false", MeterValueSampleInterval: "4" })
        const mvCount = () => b.csms.messages({ action: "MeterValues", dir: "in", identity: b.id }).length
        const before = mvCount()
        await sleep(6000)
        assert.equal(mvCount(), before, "MeterValues while SuspendedEV")
        await b.api("POST", "/api/ev/charge", { maxCurrentA: 16 })
        await b.until(s => s.contactorClosed && s.transactionId === charging.transactionId, "charging again")
        await waitFor(() => mvCount() > before, { what: "MeterValues again while charging" })
        // another card may not stop it (StopChargingOnlyWithSameCard)
        await b.api("POST", "/api/rfid", { uid: "04AA0010" })
        await sleep(2500)
        assert.equal((await b.state()).transactionId, charging.transactionId)
        await configure(b, { StopChargingOnlyWithSameCard: "false" })
        // the seed's two-card rule: an accepted second card stops the session
        await b.api("POST", "/api/rfid", { uid: "04AA0011" })
        const stop = await b.message("StopTransaction")
        assert.equal(stop.payload.reason, "Local")
        assert.equal(stop.payload.idTag, "04AA0011")
        assert.deepEqual(b.csms.messages({ action: "Authorize", dir: "in", identity: b.id }).map(m => m.payload.idTag), ["04AA0009", "04AA0011"])
        b.assertClean()
    } finally {
        await b.stop()
    }
})

test("TC_069 StopChargingOnlyWithSameCard true: a card of the same group (parentIdTag) stops the session, another group's does not", async () => {
    const b = await startBench({ csms: { authorize: tag => ({ status: "Accepted", parentIdTag: tag.startsWith("04AC") ? "FLEET-A" : "FLEET-B" }) } })
    try {
        await bootToAvailable(b)
        await configure(b, { StopChargingOnlyWithSameCard: "true" })
        await b.api("POST", "/api/ev/charge", { maxCurrentA: 16 })
        await b.api("POST", "/api/rfid", { uid: "04AC0001" })
        await b.until(s => s.contactorClosed && s.transactionId > 0, "charging")
        await b.api("POST", "/api/rfid", { uid: "04AD0001" })
        await b.until(s => s.lastAuthorization === "Accepted" && b.csms.messages({ action: "Authorize", dir: "in", identity: b.id }).length === 2, "other group checked")
        await sleep(1000)
        assert.ok((await b.state()).transactionId > 0, "another group's card stopped the session")
        await b.api("POST", "/api/rfid", { uid: "04AC0002" })
        const stop = await b.message("StopTransaction")
        assert.equal(stop.payload.reason, "Local")
        assert.equal(stop.payload.idTag, "04AC0002")
        b.assertClean()
    } finally {
        await b.stop()
    }
})

test("offline authorisation: unknown cards refused (AllowOfflineTxForUnknownId false); AuthReqInOfflineMode false charges free", async () => {
    const b = await startBench()
    try {
        await bootToAvailable(b)
        await configure(b, { LocalAuthorizeOffline: "true" })
        await b.api("POST", "/api/network/drop")
        await b.until(s => !s.ocppConnected, "offline")
        await b.api("POST", "/api/ev/charge", { maxCurrentA: 16 })
        await b.api("POST", "/api/rfid", { uid: "04AA0012" })
        await b.until(s => s.lastAuthorization === "Unknown", "card not authorised offline")
        await sleep(1000)
        assert.equal((await b.state()).contactorClosed, false)
        await b.api("POST", "/api/network/restore")
        await b.until(s => s.ocppConnected, "online")
        await configure(b, { AuthReqInOfflineMode: "false", FreevendIdTag: "FREEOFFLINE" })
        await b.api("POST", "/api/network/drop")
        await b.until(s => s.contactorClosed && s.idTag === "FREEOFFLINE", "free vend offline")
        await b.api("POST", "/api/ev/unplug")
        await b.until(s => s.transactionId === null, "ended")
        await b.api("POST", "/api/network/restore")
        const start = await b.message("StartTransaction", 1, 40000)
        assert.equal(start.payload.idTag, "FREEOFFLINE")
        await b.message("StopTransaction", 1, 20000)
        b.assertClean()
    } finally {
        await b.stop()
    }
})

test("clock-aligned meter values on the interval grid from midnight (Sample.Clock, Energy.Active.Import.Interval)", async () => {
    const b = await startBench()
    try {
        await bootToAvailable(b)
        await configure(b, { ClockAlignedDataInterval: "30", MeterValuesAlignedData: "Energy.Active.Import.Register,Energy.Active.Import.Interval" })
        await b.api("POST", "/api/ev/charge", { maxCurrentA: 16 })
        await b.api("POST", "/api/rfid", { uid: "04AA0013" })
        const start = await b.message("StartTransaction")
        const aligned = await waitFor(
            () => b.csms.messages({ action: "MeterValues", dir: "in", identity: b.id }).find(m => m.payload.transactionId !== undefined && m.payload.meterValue[0].sampledValue[0].context === "Sample.Clock"),
            { what: "aligned MeterValues", timeout: 45000 },
        )
        const mv = aligned.payload.meterValue[0]
        assert.equal(new Date(mv.timestamp).getUTCSeconds() % 30, 0, mv.timestamp)
        assert.deepEqual(mv.sampledValue.map(v => [v.measurand, v.unit]), [["Energy.Active.Import.Register", "Wh"], ["Energy.Active.Import.Interval", "Wh"]])
        assert.equal(aligned.payload.transactionId, answerTo(b, start).payload.transactionId)
        await b.api("POST", "/api/ev/unplug")
        const stop = await b.message("StopTransaction")
        // StopTxnAlignedData: the last aligned reading of the transaction goes with the stop
        assert.ok(stop.payload.transactionData.some(v => v.sampledValue[0].context === "Sample.Clock"))
        b.assertClean()
    } finally {
        await b.stop()
    }
})

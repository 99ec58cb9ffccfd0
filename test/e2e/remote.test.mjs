// The central system's Core requests: remote start/stop, reset, availability, unlock,
// data transfer, trigger (OCA TC_010-TC_018, TC_026-TC_028, TC_034, TC_054, TC_055, TC_062).
import { test } from "node:test"
import assert from "node:assert/strict"
import { startBench, bootToAvailable, waitFor, sleep } from "./harness.mjs"

const statuses = b =>
    b.csms.messages({ action: "StatusNotification", dir: "in", identity: b.id }).filter(m => m.payload.connectorId === 1).map(m => m.payload.status)

test("TC_010/TC_012 remote start with the cable in, remote stop; TC_026 busy, TC_027 connector 0, TC_028 unknown id", async () => {
    const b = await startBench()
    try {
        await bootToAvailable(b)
        await b.api("POST", "/api/ev/charge", { maxCurrentA: 16 })
        await b.until(s => s.connectorStatus === "Preparing", "Preparing")
        assert.deepEqual(await b.call("RemoteStartTransaction", { connectorId: 0, idTag: "REMOTE01" }), { status: "Rejected" })
        assert.deepEqual(await b.call("RemoteStartTransaction", { connectorId: 1, idTag: "REMOTE01" }), { status: "Accepted" })
        const start = await b.message("StartTransaction")
        assert.equal(start.payload.idTag, "REMOTE01")
        // AuthorizeRemoteTxRequests is false (seed): no Authorize
        assert.equal(b.csms.messages({ action: "Authorize" }).length, 0)
        const s = await b.until(st => st.contactorClosed && st.connectorStatus === "Charging" && st.transactionId > 0, "Charging")
        assert.deepEqual(await b.call("RemoteStartTransaction", { idTag: "REMOTE02" }), { status: "Rejected" })
        assert.deepEqual(await b.call("RemoteStopTransaction", { transactionId: s.transactionId + 1000 }), { status: "Rejected" })
        assert.deepEqual(await b.call("RemoteStopTransaction", { transactionId: s.transactionId }), { status: "Accepted" })
        const stop = await b.message("StopTransaction")
        assert.equal(stop.payload.reason, "Remote")
        await b.until(st => !st.contactorClosed, "contactor open", 10000)
        b.assertClean()
    } finally {
        await b.stop()
    }
})

test("TC_011 remote start before the cable, with AuthorizeRemoteTxRequests: Authorize, then start on plug-in", async () => {
    const b = await startBench()
    try {
        await bootToAvailable(b)
        assert.deepEqual(await b.call("ChangeConfiguration", { key: "AuthorizeRemoteTxRequests", value: "true" }), { status: "Accepted" })
        assert.deepEqual(await b.call("RemoteStartTransaction", { idTag: "REMOTE03" }), { status: "Accepted" })
        await b.message("Authorize")
        await b.until(s => s.connectorStatus === "Preparing", "Preparing without a cable")
        assert.equal(b.csms.messages({ action: "StartTransaction" }).length, 0)
        await b.api("POST", "/api/ev/charge", { maxCurrentA: 16 })
        const start = await b.message("StartTransaction")
        assert.equal(start.payload.idTag, "REMOTE03")
        b.assertClean()
    } finally {
        await b.stop()
    }
})

test("TC_034 ChangeAvailability Inoperative: Unavailable and pilot F, kept across a power cut; Scheduled during a transaction", async () => {
    const b = await startBench()
    try {
        await bootToAvailable(b)
        assert.deepEqual(await b.call("ChangeAvailability", { connectorId: 0, type: "Inoperative" }), { status: "Accepted" })
        let s = await b.until(st => st.connectorStatus === "Unavailable", "Unavailable")
        assert.equal(s.pilotState, "F")
        await waitFor(() => statuses(b).at(-1) === "Unavailable", { what: "SN Unavailable" })
        // the same request again: Accepted, no extra StatusNotification
        const n = statuses(b).length
        assert.deepEqual(await b.call("ChangeAvailability", { connectorId: 1, type: "Inoperative" }), { status: "Accepted" })
        await b.api("POST", "/api/power/cut")
        await b.api("POST", "/api/power/on")
        await b.until(st => st.ocppConnected && st.registration === "Accepted", "rebooted", 30000)
        s = await b.until(st => st.connectorStatus === "Unavailable", "still Unavailable")
        assert.ok(statuses(b).length >= n)
        assert.deepEqual(await b.call("ChangeAvailability", { connectorId: 1, type: "Operative" }), { status: "Accepted" })
        await b.until(st => st.connectorStatus === "Available", "Available")
        // during a transaction: Scheduled, Unavailable once it ends
        await b.api("POST", "/api/ev/charge", { maxCurrentA: 16 })
        await b.api("POST", "/api/rfid", { uid: "04A1B2C3" })
        await b.until(st => st.contactorClosed, "charging")
        assert.deepEqual(await b.call("ChangeAvailability", { connectorId: 0, type: "Inoperative" }), { status: "Scheduled" })
        await sleep(1000)
        assert.equal((await b.state()).contactorClosed, true, "the transaction goes on")
        await b.api("POST", "/api/ev/unplug")
        await b.until(st => st.connectorStatus === "Unavailable", "Unavailable after the transaction")
        assert.deepEqual(await b.call("ChangeAvailability", { connectorId: 2, type: "Operative" }), { status: "Rejected" })
        b.assertClean()
    } finally {
        await b.stop()
    }
})

test("TC_015/TC_016 Reset in a transaction: StopTransaction (HardReset / SoftReset) first, then a new boot", async () => {
    const b = await startBench()
    try {
        await bootToAvailable(b)
        for (const [type, reason, n] of [["Soft", "SoftReset", 1], ["Hard", "HardReset", 2]]) {
            await b.api("POST", "/api/ev/charge", { maxCurrentA: 16 })
            await b.api("POST", "/api/rfid", { uid: n === 1 ? "04A1B2C3" : "0A0B0C0D" })
            await b.until(s => s.contactorClosed, "charging", 20000)
            assert.deepEqual(await b.call("Reset", { type }), { status: "Accepted" })
            const stop = await b.message("StopTransaction", n)
            assert.equal(stop.payload.reason, reason)
            await b.message("BootNotification", n + 1, 30000)
            // after the boot the EV is still there: Preparing or Finishing, never a silent Available
            await b.until(s => s.registration === "Accepted" && ["Preparing", "Finishing"].includes(s.connectorStatus), "Preparing", 30000)
            await waitFor(() => b.csms.configured[b.id], { what: "commissioning" })
            await b.api("POST", "/api/ev/unplug")
            await b.until(s => s.connectorStatus === "Available", "Available")
        }
        b.assertClean()
    } finally {
        await b.stop()
    }
})

test("UnlockConnector (fixed cable), DataTransfer, ClearCache, TriggerMessage (TC_017_2, TC_031, TC_054, TC_055, TC_062)", async () => {
    const b = await startBench()
    try {
        await bootToAvailable(b)
        assert.deepEqual(await b.call("UnlockConnector", { connectorId: 1 }), { status: "NotSupported" })
        assert.deepEqual(await b.call("UnlockConnector", { connectorId: 7 }), { status: "NotSupported" })
        assert.deepEqual(await b.call("DataTransfer", { vendorId: "com.example", messageId: "x" }), { status: "UnknownVendorId" })
        assert.deepEqual(await b.call("ClearCache", {}), { status: "Accepted" })
        assert.deepEqual(await b.call("TriggerMessage", { requestedMessage: "StatusNotification", connectorId: 2 }), { status: "Rejected" })
        for (const m of ["DiagnosticsStatusNotification", "FirmwareStatusNotification", "Heartbeat", "MeterValues"]) {
            assert.deepEqual(await b.call("TriggerMessage", { requestedMessage: m, connectorId: m === "MeterValues" ? 1 : undefined }), { status: "Accepted" }, m)
            const msg = await b.message(m)
            if (m.endsWith("StatusNotification")) assert.equal(msg.payload.status, "Idle")
        }
        b.assertClean()
    } finally {
        await b.stop()
    }
})

test("socket variant: the plug is locked during a transaction; TC_018_1 UnlockConnector stops it (UnlockCommand) and unlocks; TC_005_2 UnlockConnectorOnEVSideDisconnect false keeps it locked", async () => {
    const b = await startBench({ sim: { socket: true } })
    try {
        await bootToAvailable(b)
        await b.api("POST", "/api/ev/charge", { maxCurrentA: 16 })
        await b.api("POST", "/api/rfid", { uid: "04DD0001" })
        const s = await b.until(st => st.contactorClosed && st.transactionId > 0 && st.connectorLocked, "charging, locked")
        assert.equal(s.socketOutlet, true)
        assert.deepEqual(await b.call("UnlockConnector", { connectorId: 2 }), { status: "NotSupported" })
        assert.deepEqual(await b.call("UnlockConnector", { connectorId: 1 }), { status: "Unlocked" })
        const stop = await b.message("StopTransaction")
        assert.equal(stop.payload.reason, "UnlockCommand")
        await b.until(st => !st.contactorClosed && !st.connectorLocked && st.transactionId === null, "unlocked, ended")
        await b.api("POST", "/api/ev/unplug")
        await b.until(st => st.connectorStatus === "Available", "Available")

        assert.deepEqual(await b.call("ChangeConfiguration", { key: "UnlockConnectorOnEVSideDisconnect", value: "false" }), { status: "Accepted" })
        await sleep(2100)
        await b.api("POST", "/api/ev/charge", { maxCurrentA: 16 })
        await b.api("POST", "/api/rfid", { uid: "04DD0001" })
        await b.until(st => st.contactorClosed && st.connectorLocked, "charging, locked")
        await b.api("POST", "/api/ev/unplug")
        const stop2 = await b.message("StopTransaction", 2)
        assert.equal(stop2.payload.reason, "EVDisconnected")
        await sleep(1000)
        assert.equal((await b.state()).connectorLocked, true, "unlocked after an EV-side disconnect")
        assert.deepEqual(await b.call("UnlockConnector", { connectorId: 1 }), { status: "Unlocked" })
        await b.until(st => !st.connectorLocked, "unlocked on request")
        b.assertClean()
    } finally {
        await b.stop()
    }
})

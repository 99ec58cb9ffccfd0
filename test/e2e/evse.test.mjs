// EVSE control through the simulated hardware: contactor timings measured in the
// simulator, faults reaching the central system, welded contactor, pilot faults.
import { test } from "node:test"
import assert from "node:assert/strict"
import { startBench, bootToAvailable, waitFor, sleep } from "./harness.mjs"

/** Boot, plug, swipe and charge until the contactor is closed. */
async function charging(b, { maxCurrentA = 16, ignoresPwmOff = false, uid = "04A1B2C3" } = {}) {
    await bootToAvailable(b)
    await b.api("POST", "/api/ev/charge", { maxCurrentA, ignoresPwmOff })
    await b.api("POST", "/api/rfid", { uid })
    return await b.until(s => s.contactorClosed && s.connectorStatus === "Charging", "Charging", 20000)
}

/** StatusNotifications for connector 1 from index `from` on. */
const statuses = (b, from = 0) =>
    b.csms.messages({ action: "StatusNotification", dir: "in", identity: b.id }).filter(m => m.payload.connectorId === 1).slice(from)

test("seq. 8.1: the contactor opens within 100 ms of the EV leaving state C (measured in the simulator)", async () => {
    const b = await startBench()
    try {
        await charging(b)
        const latencies = []
        for (let i = 0; i < 3; i++) {
            await b.api("POST", "/api/ev/pause")
            await b.until(s => !s.contactorClosed, "contactor open")
            latencies.push(b.sim.contactorLatencyMs())
            await b.api("POST", "/api/ev/charge", { maxCurrentA: 16 })
            // no return to C within 5 s of opening, then closed again
            await b.until(s => s.contactorClosed, "closed again", 15000)
        }
        console.log(`pilot change → contactor open: ${latencies.map(l => l.toFixed(1)).join(", ")} ms`)
        for (const l of latencies) assert.ok(l <= 100, `contactor opened ${l} ms after the EV left C`)
        b.assertClean()
    } finally {
        await b.stop()
    }
})

test("seq. 10.2: an EV that keeps drawing after the PWM is removed is cut off after 6 s", async () => {
    const b = await startBench()
    try {
        await charging(b, { ignoresPwmOff: true })
        await sleep(2500) // past the reader's cooldown: a new swipe
        const t0 = Date.now()
        await b.api("POST", "/api/rfid", { uid: "04A1B2C3" }) // the same card stops the session
        await b.message("StopTransaction")
        let s = await b.state()
        assert.equal(s.pwmDutyPercent, 100, "PWM still on after the stop")
        await b.until(st => !st.contactorClosed, "forced open", 12000)
        const waited = Date.now() - t0
        assert.ok(waited >= 5500 && waited < 8000, `contactor opened ${waited} ms after the PWM went`)
        b.assertClean()
    } finally {
        await b.stop()
    }
})

test("faults reach the central system as the seed's error codes; clearing them resumes charging", async () => {
    const b = await startBench()
    try {
        await charging(b)
        const before = statuses(b).length
        await b.api("POST", "/api/fault", { code: "0x0002" })
        let s = await b.until(st => !st.contactorClosed && st.connectorStatus === "Faulted", "Faulted")
        assert.equal(s.pilotState, "F")
        const faulted = await waitFor(() => statuses(b, before).find(m => m.payload.status === "Faulted"), { what: "SN Faulted" })
        assert.equal(faulted.payload.errorCode, "OtherError")
        assert.equal(faulted.payload.info, "Residual current detected")
        assert.equal(faulted.payload.vendorErrorCode, "0x0002")
        // a second fault at the same time: the more severe one is the errorCode, all bits in vendorErrorCode
        await b.api("POST", "/api/fault", { code: "0x0004" })
        const both = await waitFor(() => statuses(b, before).find(m => m.payload.vendorErrorCode === "0x0006"), { what: "SN with both bits" })
        assert.equal(both.payload.errorCode, "OtherError")
        await b.api("DELETE", "/api/fault", { code: "0x0002" })
        const ground = await waitFor(() => statuses(b, before).find(m => m.payload.vendorErrorCode === "0x0004"), { what: "SN GroundFailure" })
        assert.equal(ground.payload.errorCode, "GroundFailure")
        assert.equal(ground.payload.status, "Faulted")
        await b.api("DELETE", "/api/fault")
        s = await b.until(st => st.contactorClosed && st.connectorStatus === "Charging", "Charging again", 20000)
        // the display may be a pass ahead of the StatusNotification
        const last = await waitFor(() => statuses(b).at(-1).payload.status === "Charging" && statuses(b).at(-1), { what: "SN Charging" })
        assert.deepEqual([last.payload.status, last.payload.errorCode], ["Charging", "NoError"])
        assert.ok(s.transactionId !== null, "the transaction survived the fault")
        b.assertClean()
    } finally {
        await b.stop()
    }
})

test("warnings (offline storage 0x8000) are reported without stopping the connector", async () => {
    const b = await startBench()
    try {
        await bootToAvailable(b)
        await b.api("POST", "/api/fault", { code: "0x8000" })
        const w = await waitFor(() => statuses(b).find(m => m.payload.vendorErrorCode === "0x8000"), { what: "SN warning" })
        assert.deepEqual([w.payload.status, w.payload.errorCode, w.payload.info], ["Available", "OtherError", "Offline storage error"])
        await b.api("POST", "/api/ev/plug")
        await b.until(s => s.connectorStatus === "Preparing", "Preparing with a warning")
        b.assertClean()
    } finally {
        await b.stop()
    }
})

test("a welded contactor: Faulted with 0x0400, pilot F, latched after the weld clears", async () => {
    const b = await startBench()
    try {
        await charging(b)
        const before = statuses(b).length
        await b.api("POST", "/api/contactor/weld", { welded: true })
        await b.api("POST", "/api/ev/pause")
        const f = await waitFor(() => statuses(b, before).find(m => m.payload.status === "Faulted"), { what: "SN Faulted" })
        assert.deepEqual([f.payload.errorCode, f.payload.vendorErrorCode, f.payload.info], ["OtherError", "0x0400", "PowerRelay fault (RelayError)"])
        let s = await b.state()
        assert.equal(s.pilotState, "F")
        assert.equal(s.contactorClosed, true, "the model keeps the welded contacts closed")
        await b.api("POST", "/api/contactor/weld", { welded: false })
        await sleep(2000)
        s = await b.state()
        assert.equal(s.connectorStatus, "Faulted")
        assert.equal(s.firmwareFaults & 0x0400, 0x0400)
        b.assertClean()
    } finally {
        await b.stop()
    }
})

test("diode fault: Faulted (0x0100) until the EV is unplugged; state D needs VentilationAvailable", async () => {
    const b = await startBench()
    try {
        await charging(b)
        await b.api("POST", "/api/ev/diode", { fault: true })
        let s = await b.until(st => st.connectorStatus === "Faulted" && !st.contactorClosed, "Faulted")
        assert.equal(s.firmwareFaults, 0x0100)
        assert.equal(s.pwmDutyPercent, 100, "+12 V without PWM while the diode is faulty")
        await b.api("POST", "/api/ev/unplug")
        await b.until(st => st.connectorStatus === "Available" && st.firmwareFaults === 0, "Available")
        await b.api("POST", "/api/ev/diode", { fault: false })

        // an EV asking for ventilation (state D) without ventilation: nothing closes
        await b.api("POST", "/api/ev/ventilation", { on: true })
        await b.api("POST", "/api/ev/charge", { maxCurrentA: 16 })
        await b.api("POST", "/api/rfid", { uid: "0A0B0C0D" })
        await b.message("StartTransaction", 2)
        await b.until(st => st.pilotState === "D" && st.connectorStatus === "SuspendedEVSE", "SuspendedEVSE in D")
        await sleep(1500)
        assert.equal((await b.state()).contactorClosed, false)
        assert.deepEqual(await b.call("ChangeConfiguration", { key: "VentilationAvailable", value: "true" }), { status: "Accepted" })
        await b.until(st => st.contactorClosed && st.connectorStatus === "Charging", "charging in D")
        b.assertClean()
    } finally {
        await b.stop()
    }
})

test("ChangeNFCPower: 0,0 switches the reader off, both values are required", async () => {
    const b = await startBench()
    try {
        await bootToAvailable(b)
        assert.deepEqual(await b.call("ChangeConfiguration", { key: "ChangeNFCPower", value: "100" }), { status: "Rejected" })
        assert.deepEqual(await b.call("ChangeConfiguration", { key: "ChangeNFCPower", value: "256,1" }), { status: "Rejected" })
        assert.deepEqual(await b.call("ChangeConfiguration", { key: "ChangeNFCPower", value: "0,0" }), { status: "Accepted" })
        await b.api("POST", "/api/ev/plug")
        await b.api("POST", "/api/rfid", { uid: "04A1B2C3" })
        await sleep(2000)
        assert.equal(b.csms.messages({ action: "Authorize" }).length, 0)
        assert.deepEqual(await b.call("ChangeConfiguration", { key: "ChangeNFCPower", value: "100,1" }), { status: "Accepted" })
        await b.api("POST", "/api/rfid", { uid: "04A1B2C3" })
        await b.message("Authorize")
        b.assertClean()
    } finally {
        await b.stop()
    }
})

test("A.5.3 wake-up: after 30 s in B2 without C the pilot goes to −12 V for about 3 s, once; no status flicker", async () => {
    const b = await startBench()
    try {
        await bootToAvailable(b)
        await b.api("POST", "/api/ev/plug")
        await b.api("POST", "/api/rfid", { uid: "04A1B2C3" })
        await b.until(s => s.pwmDutyPercent > 0 && s.pwmDutyPercent < 100, "B2")
        const t0 = Date.now()
        await b.until(s => s.pilotState === "F", "wake-up pulse", 40000)
        const startedAfter = Date.now() - t0
        const t1 = Date.now()
        await b.until(s => s.pilotState === "B" && s.pwmDutyPercent < 100, "PWM back", 10000)
        const pulse = Date.now() - t1
        assert.ok(startedAfter > 28000, `wake-up after ${startedAfter} ms`)
        assert.ok(pulse > 2500 && pulse < 4000, `pulse of ${pulse} ms`)
        // the EV was there all along: no Available between plug-in and now
        const sn = statuses(b).map(m => m.payload.status)
        assert.ok(!sn.slice(sn.indexOf("Preparing")).includes("Available"), `status flickered: ${sn.join(" ")}`)
        assert.equal(sn.at(-1), "SuspendedEV")
        b.assertClean()
    } finally {
        await b.stop()
    }
})

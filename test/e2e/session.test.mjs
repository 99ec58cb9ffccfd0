// The charging slice through the control API: plug, card, charge, unplug (OCA TC_003).
import { test } from "node:test"
import assert from "node:assert/strict"
import { startBench, bootToAvailable, waitFor, sleep } from "./harness.mjs"

test("TC_003 plug, card, charge, unplug: Authorize, StartTransaction, MeterValues, StopTransaction", async () => {
    const b = await startBench()
    try {
        await bootToAvailable(b)
        assert.deepEqual(await b.call("ChangeConfiguration", { key: "MeterValueSampleInterval", value: "4" }), { status: "Accepted" })

        await b.api("POST", "/api/ev/plug")
        await b.until(s => s.connectorStatus === "Preparing" && s.pilotState === "B", "Preparing")
        let s = await b.state()
        // no authorisation yet: +12 V without PWM (B1), contactor open
        assert.equal(s.pwmDutyPercent, 100)
        assert.equal(s.contactorClosed, false)

        // the EV asks for power before anyone is authorised: still nothing
        await b.api("POST", "/api/ev/charge", { maxCurrentA: 16 })
        await sleep(1500)
        s = await b.state()
        assert.equal(s.pilotState, "C")
        assert.equal(s.contactorClosed, false, "contactor closed without authorisation")

        await b.api("POST", "/api/rfid", { uid: "04A1B2C3" })
        const auth = await b.message("Authorize")
        assert.deepEqual(auth.payload, { idTag: "04A1B2C3" })
        const start = await b.message("StartTransaction")
        assert.equal(start.payload.connectorId, 1)
        assert.equal(start.payload.idTag, "04A1B2C3")
        assert.equal(typeof start.payload.meterStart, "number")
        s = await b.until(st => st.contactorClosed && st.connectorStatus === "Charging" && st.transactionId > 0, "Charging with the central system's transaction id")
        assert.equal(s.pilotState, "C")
        assert.ok(s.offeredCurrentA >= 6 && s.offeredCurrentA <= 32, `offered ${s.offeredCurrentA} A`)
        assert.equal(s.transactionId, b.csms.messages({ action: "StartTransaction", dir: "out", type: 3 })[0].payload.transactionId)

        // energy from S0 pulses reaches MeterValues of the transaction
        const mv = await b.message("MeterValues", 2, 15000)
        assert.equal(mv.payload.transactionId, s.transactionId)
        const sampled = mv.payload.meterValue[0].sampledValue
        const energy = sampled.find(v => v.measurand === "Energy.Active.Import.Register")
        assert.equal(energy.unit, "Wh")
        assert.equal(energy.context, "Sample.Periodic")
        assert.ok(Number(energy.value) > start.payload.meterStart, "energy register did not rise")
        assert.ok(sampled.find(v => v.measurand === "Power.Active.Import" && Number(v.value) > 5000), "no power")

        await b.api("POST", "/api/ev/unplug")
        const stop = await b.message("StopTransaction")
        s = await b.until(st => !st.contactorClosed && st.transactionId === null && st.connectorStatus === "Available", "Available")
        assert.equal(stop.payload.reason, "EVDisconnected")
        assert.equal(stop.payload.transactionId, mv.payload.transactionId)
        assert.ok(stop.payload.meterStop >= Number(energy.value))
        assert.equal(stop.payload.meterStop, s.energyWh)
        const sn1 = () =>
            b.csms.messages({ action: "StatusNotification", dir: "in", identity: b.id })
                .filter(m => m.payload.connectorId === 1)
                .map(m => m.payload.status)
        // the display may be a pass ahead of the StatusNotification
        const statuses = await waitFor(() => sn1().at(-1) === "Available" && sn1(), { what: "SN Available" })
        assert.deepEqual(statuses.slice(0, 2), ["Available", "Preparing"])
        assert.ok(statuses.includes("Charging"))
        assert.equal(statuses[statuses.length - 1], "Available")
        b.assertClean()
    } finally {
        await b.stop()
    }
})

test("TC_023 a card the central system refuses starts nothing", async () => {
    const b = await startBench({ csms: { authorize: tag => ({ status: tag === "DEADBEEF" ? "Invalid" : "Accepted" }) } })
    try {
        await bootToAvailable(b)
        await b.api("POST", "/api/ev/charge", { maxCurrentA: 16 })
        await b.until(s => s.connectorStatus === "Preparing", "Preparing")
        await b.api("POST", "/api/rfid", { uid: "DEADBEEF" })
        await b.message("Authorize")
        await b.until(s => s.lastAuthorization === "Invalid", "Invalid shown")
        await sleep(1500)
        const s = await b.state()
        assert.equal(s.contactorClosed, false)
        assert.equal(s.transactionId, null)
        assert.equal(b.csms.messages({ action: "StartTransaction" }).length, 0)
        b.assertClean()
    } finally {
        await b.stop()
    }
})

test("the same card stops the transaction (reason Local); 7-byte UIDs make 14-character idTags", async () => {
    const b = await startBench()
    try {
        await bootToAvailable(b)
        await b.api("POST", "/api/ev/charge", { maxCurrentA: 10 })
        await b.api("POST", "/api/rfid", { uid: "04112233445566" })
        await b.until(s => s.contactorClosed, "charging")
        const start = await b.message("StartTransaction")
        assert.equal(start.payload.idTag, "04112233445566")
        await sleep(2500) // past the reader's cooldown: a second swipe, not the same one
        await b.api("POST", "/api/rfid", { uid: "04112233445566" })
        const stop = await b.message("StopTransaction")
        assert.equal(stop.payload.reason, "Local")
        const s = await b.until(st => !st.contactorClosed && st.connectorStatus === "Finishing", "Finishing")
        assert.equal(s.pilotState, "C")
        await b.api("POST", "/api/ev/unplug")
        await b.until(st => st.connectorStatus === "Available", "Available")
        b.assertClean()
    } finally {
        await b.stop()
    }
})

// Registration and heartbeat against a strict central system (OCA TC_001, TC_002).
import { test } from "node:test"
import assert from "node:assert/strict"
import { startBench, bootToAvailable, waitFor, sleep } from "./harness.mjs"

test("TC_001 cold boot: BootNotification, then StatusNotification for connectors 0 and 1, clock set", async () => {
    const b = await startBench()
    try {
        await bootToAvailable(b)
        const boot = b.csms.messages({ action: "BootNotification", dir: "in", identity: b.id })
        assert.equal(boot.length, 1)
        const p = boot[0].payload
        assert.equal(p.chargePointVendor, "OpenWallbox")
        assert.equal(p.chargePointModel, "OWB-SIM-22")
        assert.match(p.chargePointSerialNumber, /^[0-9a-f]{16}$/)
        assert.ok(p.firmwareVersion)
        const sn = b.csms.messages({ action: "StatusNotification", dir: "in", identity: b.id })
        assert.deepEqual(
            sn.map(m => [m.payload.connectorId, m.payload.status, m.payload.errorCode]),
            [
                [0, "Available", "NoError"],
                [1, "Available", "NoError"],
            ]
        )
        // security events wait for the registration (security whitepaper): the startup one
        const ev = await b.message("SecurityEventNotification")
        assert.equal(ev.payload.type, "StartupOfTheDevice")
        // the wall clock comes from BootNotification.conf currentTime
        const skew = Math.abs(Date.parse(sn[1].payload.timestamp) - Date.parse(sn[1].time))
        assert.ok(skew < 2000, `timestamp skew ${skew} ms`)
        b.assertClean()
    } finally {
        await b.stop()
    }
})

test("TC_002 Pending: answers GetConfiguration and ChangeConfiguration, boots again after the interval", async () => {
    const b = await startBench({ csms: { bootStatus: "Pending", bootRetryInterval: 3 } })
    try {
        await b.message("BootNotification", 1)
        await b.until(s => s.registration === "Pending", "Pending")
        const cfg = await b.call("GetConfiguration", {})
        assert.ok(cfg.configurationKey.find(k => k.key === "HeartbeatInterval"))
        assert.deepEqual(await b.call("ChangeConfiguration", { key: "MeterValueSampleInterval", value: "10" }), { status: "Accepted" })
        // nothing but BootNotification while Pending
        const t1 = Date.now()
        await b.message("BootNotification", 2, 8000)
        const gap = Date.now() - t1
        assert.ok(gap > 1500, `second BootNotification after ${gap} ms (interval 3 s)`)
        assert.equal(b.csms.messages({ action: "StatusNotification", identity: b.id }).length, 0)
        b.csms.o.bootStatus = "Accepted"
        await b.message("BootNotification", 3, 8000)
        await bootToAvailable(b)
        const cfg2 = await b.call("GetConfiguration", { key: ["MeterValueSampleInterval"] })
        assert.deepEqual(cfg2.configurationKey, [{ key: "MeterValueSampleInterval", readonly: false, value: "10" }])
        b.assertClean()
    } finally {
        await b.stop()
    }
})

test("Rejected: waits the returned interval, answers no request meanwhile", async () => {
    const b = await startBench({ csms: { bootStatus: "Rejected", bootRetryInterval: 4 } })
    try {
        await b.message("BootNotification", 1)
        const t1 = Date.now()
        await b.until(s => s.registration === "Rejected", "Rejected")
        // OCPP 1.6 §4.2.1: no answer while Rejected — the call times out
        await assert.rejects(b.csms.clients.get(b.id).call("GetConfiguration", {}, { callTimeoutMs: 1500 }))
        await b.message("BootNotification", 2, 10000)
        const gap = Date.now() - t1
        assert.ok(gap >= 3500, `retry after ${gap} ms, interval is 4 s`)
        b.csms.o.bootStatus = "Accepted"
        await b.message("BootNotification", 3, 10000)
        await bootToAvailable(b)
    } finally {
        await b.stop()
    }
})

test("Heartbeat every HeartbeatInterval, values under 10 s run at 10 s", async () => {
    const b = await startBench({ csms: { heartbeatInterval: 3 } })
    try {
        await bootToAvailable(b)
        // the interval from BootNotification.conf becomes HeartbeatInterval
        const cfg = await b.call("GetConfiguration", { key: ["HeartbeatInterval"] })
        assert.equal(cfg.configurationKey[0].value, "3")
        const h1 = await b.message("Heartbeat", 1, 15000)
        const h2 = await b.message("Heartbeat", 2, 15000)
        const gap = Date.parse(h2.time) - Date.parse(h1.time)
        assert.ok(gap >= 9500 && gap < 12000, `heartbeats ${gap} ms apart`)
        assert.deepEqual(h1.payload, {})
        b.assertClean()
    } finally {
        await b.stop()
    }
})

// The link to the central system: reconnects, HTTP Basic auth, TLS, and input that must
// not hurt the charge point (OCA TC_085, TC_086; EVerest robustness cases).
import { test } from "node:test"
import assert from "node:assert/strict"
import fs from "node:fs"
import os from "node:os"
import path from "node:path"
import { createRequire } from "node:module"
import { startBench, bootToAvailable, waitFor, sleep } from "./harness.mjs"
import { CentralSystem } from "../../tools/csms/csms.mjs"

const require = createRequire(import.meta.url)

test("reconnects after the central system restarts, without a new BootNotification", async () => {
    const b = await startBench()
    try {
        await bootToAvailable(b)
        const port = b.csms.port
        const first = b.csms
        await first.close()
        await b.until(s => !s.ocppConnected, "link down")
        // the central system comes back on the same address
        const second = new CentralSystem({ quiet: true })
        await second.listen(port)
        b.csms = second
        try {
            await b.until(s => s.ocppConnected, "reconnected", 40000)
            // status is re-sent so the new central system knows the connector
            await waitFor(() => second.messages({ action: "StatusNotification", dir: "in" }).length >= 2, { what: "status resent" })
            assert.equal(second.messages({ action: "BootNotification" }).length, 0)
            const cfg = await second.call(b.id, "GetConfiguration", { key: ["NumberOfConnectors"] })
            assert.equal(cfg.configurationKey[0].value, "1")
            assert.deepEqual(second.errors, [])
        } finally {
            await second.close()
        }
    } finally {
        b.csms = { close: async () => {} }
        await b.stop()
    }
})

test("TC_085 HTTP Basic auth: a wrong password is refused (401) and retried; the right one connects", async () => {
    const id = `CP-AUTH-${process.pid}`
    const b = await startBench({ id, csms: { passwords: { [id]: "correct-key-0123456" } }, sim: { key: "wrong-key-0123456789" } })
    try {
        await waitFor(() => b.csms.authFailures >= 2, { what: "two refused upgrades", timeout: 20000 })
        assert.equal(b.csms.messages({ identity: id }).length, 0)
        assert.ok(b.vmLog.some(l => l.includes("upgrade refused: 401")), "firmware did not log the 401")
        // the operator fixes the central system side: the next attempt goes through
        b.csms.o.passwords[id] = "wrong-key-0123456789"
        await bootToAvailable(b)
        b.assertClean()
    } finally {
        await b.stop()
    }
})

test("TC_086 wss: TLS to a central system whose certificate chains to a trusted CA", async () => {
    const selfsigned = require("selfsigned")
    const pems = await selfsigned.generate([{ name: "commonName", value: "localhost" }], {
        days: 2,
        keySize: 2048,
        extensions: [{ name: "subjectAltName", altNames: [{ type: 2, value: "localhost" }] }],
    })
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wallbox-tls-"))
    const ca = path.join(dir, "ca.pem")
    fs.writeFileSync(ca, pems.cert)
    const csms = new CentralSystem({ quiet: true })
    await csms.listen(0, "127.0.0.1", { cert: pems.cert, key: pems.private, hostname: "localhost" })
    // the simulator's TLS trusts Node's CA store plus NODE_EXTRA_CA_CERTS (the ESP32: its bundle)
    const b = await startBench({ noCsms: true, sim: { csms: csms.url, env: { NODE_EXTRA_CA_CERTS: ca } } })
    b.csms = csms
    try {
        assert.match(csms.url, /^wss:\/\/localhost:/)
        await bootToAvailable(b)
        b.assertClean()
    } finally {
        await b.stop()
        fs.rmSync(dir, { recursive: true, force: true })
    }
})

test("garbage from the central system gets the right CALLERROR and hurts nothing", async () => {
    const b = await startBench()
    try {
        await bootToAvailable(b)
        const client = b.csms.clients.get(b.id)
        const send = text => client.sendRaw(text)
        const expectations = {
            g1: "FormationViolation", // not JSON
            g2: "ProtocolError", // CALL without payload
            g3: "NotImplemented", // unknown action
            g4: "PropertyConstraintViolation", // enum value
            g5: "TypeConstraintViolation", // string for an integer
            g6: "OccurenceConstraintViolation", // required field missing
            g7: "FormationViolation", // field not in the schema
            g8: "FormationViolation", // unknown message type
            g9: "GenericError", // not UTF-8
        }
        send("this is not OCPP")
        send('[2,"g1","Reset",{"type":')
        send('[2,"g2","Reset"]')
        send('[2,"g3","MakeCoffee",{}]')
        send('[2,"g4","Reset",{"type":"Warm"}]')
        send('[2,"g5","RemoteStopTransaction",{"transactionId":"12"}]')
        send('[2,"g6","ChangeAvailability",{"connectorId":1}]')
        send('[2,"g7","Reset",{"type":"Hard","when":"now"}]')
        send('[7,"g8",{}]')
        client._ws.send(Buffer.concat([Buffer.from('[2,"g9","DataTransfer",{"vendorId":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}]')]))
        send('{"messageTypeId":2}')
        send('[3,"never-sent",{}]')
        send('[4,"never-sent","GenericError","",{}]')
        send("")
        await waitFor(
            () => Object.keys(expectations).every(id => b.csms.messages({ dir: "in", type: 4 }).find(m => m.id === id)),
            { what: "a CALLERROR for every bad CALL", timeout: 10000 }
        )
        for (const [id, code] of Object.entries(expectations)) {
            const m = b.csms.messages({ dir: "in", type: 4 }).find(e => e.id === id)
            assert.equal(m.payload[0], code, `${id}: ${JSON.stringify(m.payload)}`)
        }
        // nothing else was answered, and the charge point is still fine
        assert.equal(b.csms.messages({ dir: "in", type: 4 }).length, Object.keys(expectations).length)
        const cfg = await b.call("GetConfiguration", { key: ["HeartbeatInterval"] })
        assert.equal(cfg.configurationKey.length, 1)
        const s = await b.state()
        assert.ok(s.ocppConnected)
        assert.equal(s.connectorStatus, "Available")
    } finally {
        await b.stop()
    }
})

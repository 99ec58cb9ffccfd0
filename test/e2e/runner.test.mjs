// `npm run sim` as a newcomer uses it: a separate process with --flash, its control API
// on a port, and kill -9 as a power cut that keeps the flash.
import { test } from "node:test"
import assert from "node:assert/strict"
import { spawn } from "node:child_process"
import fs from "node:fs"
import os from "node:os"
import path from "node:path"
import net from "node:net"
import { fileURLToPath } from "node:url"
import { CentralSystem } from "../../tools/csms/csms.mjs"
import { waitFor } from "./harness.mjs"

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")

function freePort() {
    return new Promise(resolve => {
        const s = net.createServer().listen(0, "127.0.0.1", () => {
            const p = s.address().port
            s.close(() => resolve(p))
        })
    })
}

function startRunner(args) {
    const child = spawn(process.execPath, [path.join(ROOT, "tools/sim/cli.mjs"), "--quiet", ...args], {
        cwd: ROOT,
        stdio: ["ignore", "pipe", "pipe"],
    })
    child.output = ""
    child.stdout.on("data", d => (child.output += d))
    child.stderr.on("data", d => (child.output += d))
    return child
}

test("npm run sim: --flash keeps configuration across kill -9 of the simulator", async () => {
    const csms = new CentralSystem({ quiet: true })
    await csms.listen(0)
    const flash = fs.mkdtempSync(path.join(os.tmpdir(), "wallbox-flash-test-"))
    const port = await freePort()
    const id = `CP-RUNNER-${process.pid}`
    const args = ["--csms", csms.url, "--id", id, "--api-port", String(port), "--flash", flash]
    const state = async () => (await fetch(`http://127.0.0.1:${port}/api/state`)).json()
    let child = startRunner(args)
    try {
        await waitFor(async () => (await state()).connectorStatus === "Available", { what: "Available", timeout: 60000 })
        assert.deepEqual(await csms.call(id, "ChangeConfiguration", { key: "MeterValueSampleInterval", value: "17" }), { status: "Accepted" })
        // power cut: no shutdown of any kind
        child.kill("SIGKILL")
        await new Promise(r => child.once("exit", r))
        await waitFor(() => !csms.clients.has(id), { what: "link dropped" })
        child = startRunner(args)
        await waitFor(async () => (await state()).connectorStatus === "Available", { what: "Available again", timeout: 60000 })
        const cfg = await csms.call(id, "GetConfiguration", { key: ["MeterValueSampleInterval"] })
        assert.equal(cfg.configurationKey[0].value, "17")
        // the VM kept its flash in the given directory
        assert.ok(fs.existsSync(path.join(flash, ".devicescript/flash/sim.bin")))
        // bad requests to the control API are refused with a reason
        const r = await fetch(`http://127.0.0.1:${port}/api/rfid`, { method: "POST", body: JSON.stringify({ uid: "xyz" }) })
        assert.equal(r.status, 400)
        assert.match((await r.json()).error, /hex/)
    } finally {
        child.kill("SIGKILL")
        await csms.close()
        fs.rmSync(flash, { recursive: true, force: true })
    }
})

test("npm run sim without --csms prints its usage", async () => {
    const child = startRunner([])
    const code = await new Promise(r => child.once("exit", r))
    assert.equal(code, 2)
    assert.match(child.output, /usage: npm run sim -- --csms/)
})

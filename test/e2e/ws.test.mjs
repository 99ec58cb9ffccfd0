// The firmware's WebSocket client (RFC 6455) against a plain `ws` server speaking just
// enough OCPP to register the charge point: fragmentation, pings both ways, an oversize
// message, the close handshake and refused upgrades.
import { test } from "node:test"
import assert from "node:assert/strict"
import { WebSocketServer } from "ws"
import { startBench, waitFor, sleep } from "./harness.mjs"

/** A raw WebSocket peer that answers BootNotification/StatusNotification/Heartbeat. */
async function rawPeer({ protocol = "ocpp1.6", verifyStatus } = {}) {
    const peer = { sockets: [], received: [], pongs: [], pings: [], closes: [], upgrades: 0 }
    const wss = new WebSocketServer({
        port: 0,
        host: "127.0.0.1",
        handleProtocols: protocols => (protocol && protocols.has(protocol) ? protocol : false),
        verifyClient: verifyStatus ? (info, cb) => cb(false, verifyStatus) : undefined,
    })
    await new Promise(r => wss.once("listening", r))
    wss.on("headers", () => peer.upgrades++)
    wss.on("connection", (sock, req) => {
        peer.sockets.push(sock)
        peer.last = sock
        sock.on("pong", d => peer.pongs.push(d.toString()))
        sock.on("ping", d => peer.pings.push(d.toString()))
        sock.on("close", (code, reason) => peer.closes.push(code))
        sock.on("message", (data, isBinary) => {
            const text = data.toString()
            let m
            try {
                m = JSON.parse(text)
            } catch {
                m = null
            }
            peer.received.push(m ?? text)
            if (Array.isArray(m) && m[0] === 2) {
                const now = new Date().toISOString()
                const answers = {
                    BootNotification: { status: "Accepted", currentTime: now, interval: 300 },
                    Heartbeat: { currentTime: now },
                    StatusNotification: {},
                    SecurityEventNotification: {},
                }
                if (answers[m[2]]) sock.send(JSON.stringify([3, m[1], answers[m[2]]]))
            }
        })
    })
    peer.url = `ws://127.0.0.1:${wss.address().port}/ocpp`
    peer.close = () =>
        new Promise(r => {
            for (const s of wss.clients) s.terminate()
            wss.close(r)
        })
    /** The charge point's answer (CALLRESULT or CALLERROR) to our CALL id. */
    peer.answer = (id, timeout = 10000) =>
        waitFor(() => peer.received.find(m => Array.isArray(m) && m[0] !== 2 && m[1] === id), { what: `answer to ${id}`, timeout })
    return peer
}

async function benchAgainst(peer) {
    const b = await startBench({ noCsms: true, sim: { csms: peer.url } })
    await waitFor(() => peer.received.find(m => Array.isArray(m) && m[2] === "StatusNotification" && m[3].connectorId === 1), {
        what: "registration with the raw peer",
        timeout: 30000,
    })
    return b
}

test("fragmented messages, server pings and client pings", async () => {
    const peer = await rawPeer()
    const b = await benchAgainst(peer)
    try {
        const sock = peer.last
        // one CALL in three fragments (RFC 6455 §5.4): text, continuation, continuation+FIN
        const call = JSON.stringify([2, "frag-1", "GetConfiguration", { key: ["NumberOfConnectors"] }])
        sock.send(call.slice(0, 10), { fin: false })
        sock.send(call.slice(10, 30), { fin: false })
        sock.send(call.slice(30), { fin: true })
        const r = await peer.answer("frag-1")
        assert.deepEqual(r, [3, "frag-1", { configurationKey: [{ key: "NumberOfConnectors", readonly: true, value: "1" }] }])

        // a ping from the server is answered with its payload (§5.5.2)
        sock.ping("are-you-there")
        await waitFor(() => peer.pongs.includes("are-you-there"), { what: "pong" })

        // the client pings every WebSocketPingInterval seconds when the line is quiet
        sock.send(JSON.stringify([2, "ping-cfg", "ChangeConfiguration", { key: "WebSocketPingInterval", value: "10" }]))
        assert.deepEqual(await peer.answer("ping-cfg"), [3, "ping-cfg", { status: "Accepted" }])
        await waitFor(() => peer.pings.length >= 1, { what: "a client ping", timeout: 20000 })
    } finally {
        await b.stop()
        await peer.close()
    }
})

test("a 64 KiB message is refused with a CALLERROR and the link goes on", async () => {
    const peer = await rawPeer()
    const b = await benchAgainst(peer)
    try {
        const big = JSON.stringify([2, "big-1", "DataTransfer", { vendorId: "org.example", data: "x".repeat(65536) }])
        assert.ok(big.length > 65536)
        peer.last.send(big)
        const r = await peer.answer("big-1")
        assert.equal(r[0], 4)
        assert.equal(r[2], "GenericError")
        assert.match(r[3], /exceeds/)
        // the same in fragments
        const big2 = JSON.stringify([2, "big-2", "DataTransfer", { vendorId: "org.example", data: "y".repeat(70000) }])
        for (let i = 0; i < big2.length; i += 10000) peer.last.send(big2.slice(i, i + 10000), { fin: i + 10000 >= big2.length })
        assert.equal((await peer.answer("big-2"))[2], "GenericError")
        peer.last.send(JSON.stringify([2, "after", "GetConfiguration", { key: ["GetConfigurationMaxKeys"] }]))
        assert.equal((await peer.answer("after"))[2].configurationKey[0].value, "20")
        assert.equal((await b.state()).ocppConnected, true)
    } finally {
        await b.stop()
        await peer.close()
    }
})

test("close handshake from the server: the client echoes Close and reconnects", async () => {
    const peer = await rawPeer()
    const b = await benchAgainst(peer)
    try {
        const first = peer.last
        first.close(1001, "going away")
        // ws reports the code the client echoed back
        await waitFor(() => peer.closes.length === 1, { what: "close completed" })
        assert.equal(peer.closes[0], 1001)
        await waitFor(() => peer.sockets.length === 2, { what: "reconnect", timeout: 20000 })
        await b.until(s => s.ocppConnected, "connected again")
    } finally {
        await b.stop()
        await peer.close()
    }
})

for (const [name, opts, expect] of [
    ["404 Not Found", { verifyStatus: 404 }, /upgrade refused: 404/],
    ["a server that does not speak ocpp1.6", { protocol: "ocpp2.0.1" }, /subprotocol/],
]) {
    test(`refused upgrade: ${name}`, async () => {
        const peer = await rawPeer(opts)
        const b = await startBench({ noCsms: true, sim: { csms: peer.url } })
        try {
            await waitFor(() => b.vmLog.filter(l => expect.test(l)).length >= 2, { what: "two refused attempts", timeout: 20000 })
            assert.equal(peer.received.length, 0, "no OCPP message may go over a refused link")
            assert.equal((await b.state()).ocppConnected, false)
        } finally {
            await b.stop()
            await peer.close()
        }
    })
}

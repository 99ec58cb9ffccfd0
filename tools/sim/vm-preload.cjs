// Preloaded into the DeviceScript CLI process that runs the simulated firmware (node -r).
//
// 1. `devs run --tcp` always dials its Jacdac proxy at 127.0.0.1:8082: send that first
//    connection to the simulator runner's own bus port (SIM_BUS_PORT), so that several
//    simulators can run side by side.
// 2. Make the VM's one TCP/TLS socket behave like the ESP32's (devicescript-esp32
//    main/sock.c), so the simulator cannot hide what would break on the device:
//    - data arrives in chunks of at most 1024 bytes (its static receive buffer), one at
//      a time, with the socket paused while chunks queue up — Node would otherwise hand
//      the VM 64 KiB at once, more than it can allocate;
//    - a TLS write of 4096 bytes or more asserts on the ESP32 (MBEDTLS_SSL_OUT_CONTENT_LEN):
//      here it kills the connection with a message saying so.
// 3. The network: a plain TCP connection to the provisioned central system
//    (SIM_NET_TARGET "host:port") goes through the runner's proxy (SIM_NET_PROXY_PORT),
//    which can drop the network (POST /api/network/drop). The firmware still dials, and
//    sends as Host, the provisioned URL.
// 4. Flash: the CLI saves the simulated flash with one writeFileSync of the whole image,
//    so a kill -9 (our power cut) in the middle left a truncated file and lost every
//    setting — the ESP32's fstor survives power cuts by design. The image is written to a
//    temporary file and renamed over the old one (atomic on POSIX): a cut leaves the old
//    image or the new one, as on the device.
const net = require("net")
const tls = require("tls")
const fs = require("fs")
const path = require("path")

const FLASH_FILE_SUFFIX = path.sep + "flash" + path.sep + "sim.bin"
const originalWriteFileSync = fs.writeFileSync
fs.writeFileSync = function (file, data, ...rest) {
    if (typeof file === "string" && file.endsWith(FLASH_FILE_SUFFIX)) {
        const tmp = file + ".tmp"
        originalWriteFileSync.call(fs, tmp, data, ...rest)
        fs.renameSync(tmp, file)
        return
    }
    return originalWriteFileSync.call(fs, file, data, ...rest)
}

const CHUNK_BYTES = 1024
const TLS_MAX_WRITE_BYTES = 4095
const QUEUE_HIGH = 16

let redirected = false
const originalCreateConnection = net.createConnection
net.createConnection = function (...args) {
    if (!redirected && args[0] === 8082 && args[1] === "127.0.0.1" && process.env.SIM_BUS_PORT) {
        redirected = true
        args[0] = Number(process.env.SIM_BUS_PORT)
        return originalCreateConnection.apply(this, args)
    }
    const o = args[0]
    if (typeof o === "object" && process.env.SIM_NET_PROXY_PORT && `${o.host}:${o.port}` === process.env.SIM_NET_TARGET)
        args[0] = { ...o, host: "127.0.0.1", port: Number(process.env.SIM_NET_PROXY_PORT) }
    const sock = originalCreateConnection.apply(this, args)
    if (typeof args[0] === "object") esp32Like(sock, false)
    return sock
}

const originalTlsConnect = tls.connect
tls.connect = function (...args) {
    const sock = originalTlsConnect.apply(this, args)
    esp32Like(sock, true)
    return sock
}

function esp32Like(sock, isTls) {
    const queue = [] // ["data", chunk] | ["close", hadError]
    const handlers = { data: [], close: [] }
    let timer = null
    const pump = () => {
        timer = null
        const ev = queue.shift()
        if (ev) for (const fn of handlers[ev[0]]) fn(ev[1])
        if (queue.length) timer = setTimeout(pump, 1)
        else if (sock.isPaused() && !sock.destroyed) sock.resume()
    }
    const enqueue = ev => {
        queue.push(ev)
        if (!timer) timer = setTimeout(pump, 0)
    }
    const originalOn = sock.on
    sock.on = function (event, fn) {
        if (event !== "data" && event !== "close") return originalOn.call(this, event, fn)
        if (!handlers[event].length) {
            originalOn.call(this, event, arg => {
                if (event === "close") return enqueue(["close", arg])
                for (let i = 0; i < arg.length; i += CHUNK_BYTES) enqueue(["data", arg.subarray(i, i + CHUNK_BYTES)])
                if (queue.length > QUEUE_HIGH) sock.pause()
            })
        }
        handlers[event].push(fn)
        return this
    }
    if (isTls) {
        const originalWrite = sock.write
        sock.write = function (data, ...rest) {
            const n = typeof data === "string" ? Buffer.byteLength(data) : data.length
            if (n > TLS_MAX_WRITE_BYTES) {
                console.error(`ESP32 would assert: TLS write of ${n} bytes (limit ${TLS_MAX_WRITE_BYTES})`)
                sock.destroy(new Error(`TLS write of ${n} bytes`))
                return false
            }
            return originalWrite.call(this, data, ...rest)
        }
    }
}

// 3. The VM dies with the runner: a `kill -9` of the simulator is a power cut, so this
//    process must not live on as an orphan with the OCPP link open. The runner holds our
//    stdin; when it ends, the runner is gone.
if (process.env.SIM_BUS_PORT) {
    process.stdin.on("end", () => process.kill(process.pid, "SIGKILL"))
    process.stdin.on("error", () => process.kill(process.pid, "SIGKILL"))
    process.stdin.resume()
}

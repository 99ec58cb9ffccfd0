// Preloaded into the DeviceScript CLI process (node -r): `devs run --tcp` always dials
// the Jacdac proxy at 127.0.0.1:8082; send its first such connection to the simulator
// runner's own bus port (SIM_BUS_PORT) so that several simulators can run side by side.
const net = require("net")
const original = net.createConnection
let redirected = false
net.createConnection = function (port, host, ...rest) {
    if (!redirected && port === 8082 && host === "127.0.0.1" && process.env.SIM_BUS_PORT) {
        redirected = true
        port = Number(process.env.SIM_BUS_PORT)
    }
    return original.call(this, port, host, ...rest)
}

// The simulator board: the same Hardware as the ESP32, reached over Jacdac roles that
// the simulator runner (tools/sim) serves from its models of the EV, the meter, the
// card reader and the contactor. Contactor coil = Relay service, pilot PWM = Buzzer
// service (as on the ESP32), everything else = the custom Wallbox Sim Board service
// (services/wallboxsim.md). The runner pushes a report whenever a value changes, so
// reads here return the cached, current value without a round trip.
import * as ds from "@devicescript/core"
import { Hardware, Provisioning } from "./hardware"
import { PilotPwm } from "./pilotpwm"

/** Largest string a register write carries: one Jacdac packet (longer writes are dropped). */
const PACKET_TEXT_MAX_BYTES = 236

/** `s` cut to one packet of UTF-8, never inside a character. */
export function packetText(s: string) {
    const b = Buffer.from(s)
    let n = PACKET_TEXT_MAX_BYTES
    if (b.length <= n) return s
    // b[n] is the first byte left out: back up to the start of its character
    while (n > 0 && (b[n] & 0xc0) === 0x80) n--
    return b.slice(0, n).toString("utf-8")
}

export class SimBoard implements Hardware {
    model = "OWB-SIM-22"
    ratedCurrentA = 32
    phases = 3
    measuresCurrentVoltage = true
    s0ImpPerKwh = 1000
    hasDisplay = true
    socketOutlet = false
    pilotHighMv = 12000
    pilotLowMv = 12000
    currentMa = 0
    voltageMv = 0

    private relay = new ds.Relay()
    private board = new ds.WallboxSimBoard()
    private pwm = new PilotPwm(new ds.Buzzer())
    private lastStatus: string
    private lastPrice: string
    felica: Buffer
    /** Heap held back to model a smaller device (see heap_reserve). */
    private ballast: Buffer[] = []

    /** Wait until the runner serves the board (the firmware can do nothing before). */
    async bind() {
        while (!this.board.isBound || !this.relay.isBound) await ds.sleep(50)
        this.s0ImpPerKwh = (await this.board.meterConstant.read()) || 1000
        this.socketOutlet = !!(await this.board.socketOutlet.read())
        let reserve = await this.board.heapReserve.read()
        while (reserve > 0) {
            const n = Math.min(reserve, 4096)
            this.ballast.push(Buffer.alloc(n - 12))
            reserve -= n
        }
    }

    async setContactor(closed: boolean) {
        await this.relay.enabled.write(closed)
    }

    async setConnectorLock(locked: boolean) {
        await this.board.connectorLocked.write(locked)
        return true
    }

    async contactorClosed() {
        return !!(await this.board.contactorFeedback.read())
    }

    async setPilot(level: number) {
        await this.pwm.set(level)
    }

    async samplePilot() {
        this.pilotHighMv = await this.board.pilotHigh.read()
        this.pilotLowMv = await this.board.pilotLow.read()
    }

    async s0Level() {
        return (await this.board.s0Input.read()) ? 1 : 0
    }

    async sampleMeter() {
        this.currentMa = await this.board.meterCurrent.read()
        this.voltageMv = await this.board.meterVoltage.read()
    }

    private readerOn = true

    async readCard() {
        const uid = await this.board.cardUid.read()
        if (!this.readerOn || !uid || !uid.length) return undefined
        const felica = await this.board.cardFelica.read()
        if (felica && felica.length) this.felica = felica
        return uid
    }

    setCardReader(power: number, enabled: boolean) {
        // the simulated reader reads at any power; switched off it reads nothing
        this.readerOn = enabled
    }

    async faultBits() {
        return await this.board.faultBits.read()
    }

    async provisioning(): Promise<Provisioning> {
        const url = await this.board.csmsUrl.read()
        if (!url) return undefined
        return {
            url,
            chargePointId: await this.board.chargePointId.read(),
            authorizationKey: await this.board.authorizationKey.read(),
        }
    }

    async showStatus(status: string, line: string) {
        if (line === this.lastStatus) return
        this.lastStatus = line
        await this.board.display.write(line)
    }

    async showPrice(screen: string[]) {
        const key = screen.join("\n")
        if (key === this.lastPrice) return
        this.lastPrice = key
        await this.board.priceText.write(packetText(screen[0]))
        await this.board.costText.write(packetText(screen[1]))
        await this.board.qrCodeText.write(packetText(screen[2]))
    }
}

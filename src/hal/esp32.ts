// The ESP32 board (boards/wallbox_esp32.board.json; pin map and circuit notes in README.md).
//
// - Contactor: coil driver on a plain GPIO; the mirror contact (NC auxiliary contact,
//   IEC 60947-4-1 Annex F) to GND on an input with pull-up: it reads 1 when the main
//   contacts are closed. The built-in relay server ignores its feedback pin, hence GPIO.
// - Pilot: PWM from the buzzer server (see pilotpwm.ts) into the ±12 V driver; the
//   sense line through a divider into ADC1. The ADC is one-shot and cannot follow the
//   PWM phase, so each sample is a burst of PILOT_BURST conversions (about 1 ms of
//   signal) whose maximum and minimum are the high and low plateau.
// - S0: open-collector meter output to GND on an input with pull-up (a pulse reads 0),
//   counted by src/hal/s0.ts.
// - RFID: MFRC522 on SPI (VSPI pins), chip select driven as a GPIO, reset held high.
import * as ds from "@devicescript/core"
import "@devicescript/gpio"
import { spi } from "@devicescript/spi"
import { Hardware, Provisioning } from "./hardware"
import { PilotPwm } from "./pilotpwm"
import { Mfrc522, SpiLink, CardReader } from "./mfrc522"
import { storeReadJson } from "../store/store"

/** Pilot divider: pilot mV = ADC fraction × PILOT_SPAN_MV − PILOT_OFFSET_MV (±13.2 V over 0..3.3 V). */
export const PILOT_SPAN_MV = 26400
export const PILOT_OFFSET_MV = 13200
const PILOT_BURST = 48
/** Provisioning settings, written by `devs deploy` from .env.defaults / .env.local. */
const SETTING_URL = "CSMS_URL"
const SETTING_ID = "CP_ID"
const SETTING_KEY = "CSMS_KEY"

export interface Esp32Pins {
    contactor: ds.OutputPin
    contactorFeedback: ds.InputPin
    pilotSense: ds.InputPin
    s0: ds.InputPin
    rfidCs: ds.OutputPin
    rfidReset: ds.OutputPin
    rfidSck: ds.OutputPin
    rfidMosi: ds.OutputPin
    rfidMiso: ds.InputPin
    rcdTrip: ds.InputPin
    statusLed: ds.OutputPin
}

class SpiWithCs implements SpiLink {
    constructor(private cs: ds.OutputPin) {}
    async transfer(tx: Buffer) {
        this.cs.setMode(ds.GPIOMode.OutputLow)
        try {
            return await spi.transfer(tx)
        } finally {
            this.cs.setMode(ds.GPIOMode.OutputHigh)
        }
    }
}

export class Esp32Board implements Hardware {
    model = "OWB-AC22-ESP32"
    ratedCurrentA = 32
    phases = 3
    measuresCurrentVoltage = false
    /** the DIN-rail meter's S0 constant (printed on the meter) */
    s0ImpPerKwh = 1000
    hasDisplay = false
    /** The board's pin map has a fixed cable: no plug lock (a socket variant would add its actuator pins). */
    socketOutlet = false
    pilotHighMv = 0
    pilotLowMv = 0
    currentMa = 0
    voltageMv = 0
    private pwm: PilotPwm
    private rfid: CardReader
    private ledOn = false

    constructor(private p: Esp32Pins, pilotBuzzer: ds.Buzzer) {
        this.pwm = new PilotPwm(pilotBuzzer)
        p.contactor.setMode(ds.GPIOMode.OutputLow)
        p.contactorFeedback.setMode(ds.GPIOMode.InputPullUp)
        p.pilotSense.setMode(ds.GPIOMode.AnalogIn)
        p.s0.setMode(ds.GPIOMode.InputPullUp)
        p.rcdTrip.setMode(ds.GPIOMode.Input)
        p.statusLed.setMode(ds.GPIOMode.OutputLow)
        p.rfidCs.setMode(ds.GPIOMode.OutputHigh)
        p.rfidReset.setMode(ds.GPIOMode.OutputHigh)
        spi.configure({ miso: p.rfidMiso, mosi: p.rfidMosi, sck: p.rfidSck, mode: 0, hz: 4000000 })
        this.rfid = new CardReader(new Mfrc522(new SpiWithCs(p.rfidCs)))
    }

    async setConnectorLock(locked: boolean) {
        return false
    }

    async setContactor(closed: boolean) {
        this.p.contactor.setMode(closed ? ds.GPIOMode.OutputHigh : ds.GPIOMode.OutputLow)
    }

    async contactorClosed() {
        return this.p.contactorFeedback.value === 1
    }

    async setPilot(level: number) {
        await this.pwm.set(level)
    }

    async samplePilot() {
        let hi = 0
        let lo = 1
        for (let i = 0; i < PILOT_BURST; i++) {
            const v = this.p.pilotSense.value as number
            if (v > hi) hi = v
            if (v < lo) lo = v
        }
        this.pilotHighMv = Math.round(hi * PILOT_SPAN_MV - PILOT_OFFSET_MV)
        this.pilotLowMv = Math.round(lo * PILOT_SPAN_MV - PILOT_OFFSET_MV)
    }

    async s0Level() {
        return this.p.s0.value === 0 ? 0 : 1
    }

    async sampleMeter() {}

    async readCard() {
        return await this.rfid.poll()
    }

    setCardReader(power: number, enabled: boolean) {
        // ChangeNFCPower 0..255 onto the MFRC522 receiver gain steps 0..7 (18..48 dB)
        this.rfid.gain = power >> 5
        this.rfid.enabled = enabled
    }

    async faultBits() {
        // RCD module trip output pulls the input low: residual current (0x0002)
        return this.p.rcdTrip.value === 0 ? 0x0002 : 0
    }

    async provisioning(): Promise<Provisioning> {
        const url = await storeReadJson(SETTING_URL)
        const id = await storeReadJson(SETTING_ID)
        if (typeof url !== "string" || typeof id !== "string") return undefined
        const key = await storeReadJson(SETTING_KEY)
        return { url, chargePointId: id, authorizationKey: typeof key === "string" ? key : "" }
    }

    async showStatus(status: string, line: string) {
        // steady: idle; blinking: a session (Preparing, Charging...); dark: offline/unprovisioned
        const blink = status !== "Available" && status !== "Offline"
        this.ledOn = status === "Offline" ? false : blink ? !this.ledOn : true
        this.p.statusLed.setMode(this.ledOn ? ds.GPIOMode.OutputHigh : ds.GPIOMode.OutputLow)
    }
}

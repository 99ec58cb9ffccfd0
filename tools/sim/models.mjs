// Models of the simulated wallbox's hardware: the EV on the control pilot, the
// contactor with its mirror contact, the S0 energy meter and the card reader.
// Pure state machines advanced by step(nowMs); the runner maps them onto Jacdac.
// Electrical figures: IEC 61851-1 Annex A (EVSE ±12 V through 1 kΩ; EV 2.74 kΩ,
// 882 Ω, 246 Ω; diode on the EV side), see ../shared/notes/evse-control-reference.md.

/** Pilot high-plateau voltage (mV) for each EV state with the EVSE at +12 V. */
const EV_LEVEL_MV = { A: 12000, B: 9000, C: 6000, D: 3000, E: 0 }

/** Current the EV reads from a PWM duty in per mille (IEC 61851-1 Table A.8). */
export function currentForDutyPermille(d) {
    if (d < 80 || d > 970) return 0
    if (d < 100) return 6
    if (d <= 850) return (d * 6) / 100
    if (d <= 960) return (d - 640) / 4
    return 80
}

/**
 * The pilot PWM as the ESP32 buzzer server produces it (jacdac-c services/buzzer.c):
 * the duty argument is scaled by the volume register and inverted; the tone ends after
 * its duration and the pin then idles low (−12 V on the pilot).
 */
export class PilotOutput {
    constructor() {
        this.volume = 0x80 // the buzzer's power-on volume (u0.8)
        this.untilMs = 0 // no tone yet: pin idle
        this.highPermille = 0
    }
    /** A PlayTone command (period µs, duty µs, duration ms). */
    playTone(nowMs, periodUs, dutyUs, durationMs) {
        const scaled = (dutyUs * this.volume) >> 8
        const high = Math.max(0, periodUs - scaled)
        this.highPermille = periodUs > 0 ? Math.round((high * 1000) / periodUs) : 0
        this.untilMs = durationMs > 0 && periodUs > 0 ? nowMs + durationMs : 0
    }
    powerCut() {
        this.untilMs = 0
        this.volume = 0x80
    }
    /** "-12V", "+12V" or "PWM" at nowMs, and the duty in per mille. */
    level(nowMs) {
        const high = nowMs < this.untilMs ? this.highPermille : 0
        if (high <= 0) return { kind: "-12V", duty: 0 }
        if (high >= 1000) return { kind: "+12V", duty: 1000 }
        return { kind: "PWM", duty: high }
    }
}

/** The vehicle: its pilot state, what it asks for and what it draws. */
export class EvModel {
    constructor() {
        this.plugged = false
        this.wantsCharge = false
        this.maxCurrentA = 16
        this.ventilation = false
        this.diodeFault = false
        this.shortToPe = false
        this.drawA = 0
        this.phases = 3
        /** a faulty EV that keeps drawing after the PWM is removed (IEC seq. 10.2 case) */
        this.ignoresPwmOff = false
        this.lastOffer = 0
    }
    /** IEC state letter the EV presents (A..E). */
    state() {
        if (!this.plugged) return "A"
        if (this.shortToPe) return "E"
        if (!this.wantsCharge) return "B"
        return this.ventilation ? "D" : "C"
    }
    /** Pilot voltages seen by the EVSE's sense circuit for the EVSE output. */
    pilotVoltages(out) {
        if (out.kind === "-12V") return { high: -12000, low: -12000 }
        const high = EV_LEVEL_MV[this.state()]
        if (out.kind === "+12V") return { high, low: high }
        // PWM: the diode blocks the negative half; without it the EV loads it too
        const low = this.diodeFault && this.plugged ? -high : -12000
        return { high, low }
    }
    /** Advance the current draw: follow min(offer, own maximum) with a short ramp. */
    step(dtMs, out, contactorClosed) {
        let offer = out.kind === "PWM" ? currentForDutyPermille(out.duty) : 0
        if (out.kind === "PWM") this.lastOffer = offer
        else if (this.ignoresPwmOff && out.kind === "+12V") offer = this.lastOffer
        const st = this.state()
        const target = contactorClosed && (st === "C" || st === "D") ? Math.min(offer, this.maxCurrentA) : 0
        // an EV settles to a new current within about a second (and must within 5 s)
        const rate = (32 * dtMs) / 1000
        if (this.drawA < target) this.drawA = Math.min(target, this.drawA + rate)
        else this.drawA = Math.max(target, this.drawA - rate * 4)
        if (!contactorClosed) this.drawA = 0
    }
}

/** The contactor: coil from the firmware, contacts (mirror contact) possibly welded. */
export class ContactorModel {
    constructor() {
        this.coil = false
        this.welded = false
        this.closed = false
        this.switchCount = 0
        this.lastChangeMs = 0
    }
    setCoil(nowMs, on) {
        this.coil = on
        const next = on || this.welded
        if (next !== this.closed) {
            this.closed = next
            this.switchCount++
            this.lastChangeMs = nowMs
        }
    }
    weld(nowMs, welded) {
        this.welded = welded
        this.setCoil(nowMs, this.coil)
    }
}

/** S0 pulse width (IEC 62053-31: at least 30 ms) and the shortest a fast meter uses. */
const S0_PULSE_MS = 30
const S0_MIN_PULSE_MS = 6

/**
 * Three-phase meter with an S0 output: one pulse per 1000/impPerKwh Wh, 30 ms long, or
 * half the pulse period when pulses come faster than that allows.
 */
export class MeterModel {
    constructor(impPerKwh = 1000) {
        this.impPerKwh = impPerKwh
        this.voltageV = 230
        this.energyWh = 0
        this.currentA = 0
        this.powerW = 0
        this.emitted = 0 // pulses put out on the S0 line
        this.low = false // the S0 output is conducting (a pulse)
        this.lowUntil = 0
        this.highUntil = 0
    }
    step(dtMs, currentA, phases, mainsOn, nowMs) {
        this.currentA = mainsOn ? currentA : 0
        this.powerW = this.currentA * this.voltageV * phases
        this.energyWh += (this.powerW * dtMs) / 3600000
        // pulse output: one pulse per owed pulse, never overlapping
        const periodMs = this.powerW > 0 ? 3.6e9 / (this.impPerKwh * this.powerW) : Infinity
        const width = Math.max(S0_MIN_PULSE_MS, Math.min(S0_PULSE_MS, periodMs / 2))
        if (this.low) {
            if (nowMs >= this.lowUntil) {
                this.low = false
                this.highUntil = nowMs + width
            }
        } else if (this.emitted < this.totalPulses() && nowMs >= this.highUntil) {
            this.low = true
            this.emitted++
            this.lowUntil = nowMs + width
        }
    }
    /** Pulses the energy so far is worth. */
    totalPulses() {
        return Math.floor((this.energyWh * this.impPerKwh) / 1000)
    }
}

/**
 * The card reader's field: a card is "present" for holdMs after a swipe. A FeliCa card
 * also gives what a FeliCa reader reads from it: IDm, Data Format Code and EneKey data
 * (the UID is then the IDm).
 */
export class CardReaderModel {
    constructor() {
        this.uid = null
        this.felica = null
        this.untilMs = 0
        this.swipes = 0
    }
    present(nowMs, uidHex, holdMs = 800, felicaHex = null) {
        this.uid = Buffer.from(uidHex, "hex")
        this.felica = felicaHex ? Buffer.from(felicaHex, "hex") : null
        this.untilMs = nowMs + holdMs
        this.swipes++
    }
    current(nowMs) {
        return this.uid && nowMs < this.untilMs ? this.uid : null
    }
    currentFelica(nowMs) {
        return this.current(nowMs) && this.felica
    }
}

/** Pilot state letter from the plateaus, for the bench's view of the line. */
export function pilotLetter(high, low, pwm) {
    if (high < -10900) return "F"
    for (const [letter, mv] of Object.entries(EV_LEVEL_MV)) {
        if (Math.abs(high - mv) <= 1100) {
            if (pwm && "BCD".includes(letter) && low > -10900) return "DF"
            return letter
        }
    }
    return "?"
}

import { describe, test, expect, beforeEach } from "@devicescript/test"
import { yieldSlice } from "./harness"
import { pilotStateFromMillivolts, dutyPermilleForCurrent, currentForDutyPermille, CpState } from "../../src/evse/pilot"
import { IecController, EvseFault, WAKE_UP_AFTER_MS } from "../../src/evse/iec"
import { S0Counter } from "../../src/hal/s0"
import { EnergyMeter } from "../../src/evse/meter"
import { toneDutyForHighTime } from "../../src/hal/pilotpwm"
import { PilotLevel } from "../../src/hal/hardware"

describe("pilot classification (±1.1 V windows)", () => {
    beforeEach(yieldSlice)
    test("nominal levels", () => {
        expect(pilotStateFromMillivolts(12000, 12000, false)).toBe(CpState.A)
        expect(pilotStateFromMillivolts(9000, 9000, false)).toBe(CpState.B)
        expect(pilotStateFromMillivolts(9000, -12000, true)).toBe(CpState.B)
        expect(pilotStateFromMillivolts(6000, -12000, true)).toBe(CpState.C)
        expect(pilotStateFromMillivolts(3000, -12000, true)).toBe(CpState.D)
        expect(pilotStateFromMillivolts(0, 0, false)).toBe(CpState.E)
        expect(pilotStateFromMillivolts(-12000, -12000, false)).toBe(CpState.F)
    })
    test("window edges", () => {
        expect(pilotStateFromMillivolts(10900, 10900, false)).toBe(CpState.A)
        expect(pilotStateFromMillivolts(10899, 10899, false)).toBe(CpState.Unknown)
        expect(pilotStateFromMillivolts(10100, 10100, false)).toBe(CpState.B)
        expect(pilotStateFromMillivolts(7900, -12000, true)).toBe(CpState.B)
        expect(pilotStateFromMillivolts(7899, -12000, true)).toBe(CpState.Unknown)
        expect(pilotStateFromMillivolts(7100, -12000, true)).toBe(CpState.C)
        expect(pilotStateFromMillivolts(1100, 1100, false)).toBe(CpState.E)
        expect(pilotStateFromMillivolts(-1100, -1100, false)).toBe(CpState.E)
        expect(pilotStateFromMillivolts(-10901, -12000, false)).toBe(CpState.F)
    })
    test("diode check only while PWM runs", () => {
        expect(pilotStateFromMillivolts(9000, -9000, true)).toBe(CpState.DiodeFault)
        expect(pilotStateFromMillivolts(6000, -10800, true)).toBe(CpState.DiodeFault)
        expect(pilotStateFromMillivolts(6000, -10900, true)).toBe(CpState.C)
        expect(pilotStateFromMillivolts(9000, 9000, false)).toBe(CpState.B)
    })
})

describe("duty cycle (IEC 61851-1 Table A.8)", () => {
    beforeEach(yieldSlice)
    test("offered current to duty, rounded down to 0.1 %", () => {
        expect(dutyPermilleForCurrent(6)).toBe(100)
        expect(dutyPermilleForCurrent(10)).toBe(166)
        expect(dutyPermilleForCurrent(16)).toBe(266)
        expect(dutyPermilleForCurrent(32)).toBe(533)
        expect(dutyPermilleForCurrent(51)).toBe(850)
        expect(dutyPermilleForCurrent(63)).toBe(892)
        expect(dutyPermilleForCurrent(80)).toBe(960)
        expect(dutyPermilleForCurrent(100)).toBe(960)
        expect(dutyPermilleForCurrent(5.9)).toBe(0)
        expect(dutyPermilleForCurrent(0)).toBe(0)
    })
    test("the EV never reads more than offered", () => {
        for (let a = 6; a <= 80; a += 0.5) expect(currentForDutyPermille(dutyPermilleForCurrent(a)) <= a).toBe(true)
        expect(currentForDutyPermille(1000)).toBe(0)
        expect(currentForDutyPermille(50)).toBe(0)
    })
    test("buzzer duty argument gives the exact +12 V time (volume 255, inverted)", () => {
        for (let high = 0; high <= 1000; high += 1) {
            const arg = toneDutyForHighTime(high)
            expect(1000 - ((arg * 255) >> 8)).toBe(high)
        }
    })
})

/**
 * Run the controller for `ms` at 20 ms steps with a constant raw pilot state and a
 * mirror contact that follows the coil; yields every 50 steps (VM slice budget).
 */
async function run(c: IecController, fromMs: number, ms: number, raw: number) {
    let t = fromMs
    let n = 0
    for (; t < fromMs + ms; t += 20) {
        c.step(t, raw, c.contactor)
        if (++n % 5 === 0) await yieldSlice()
    }
    return t
}

/** A controller charging in state C (contactor closed) at time t (returned). */
async function charging(offerA = 16): Promise<[IecController, number]> {
    const c = new IecController()
    c.offerA = offerA
    c.permit = true
    await run(c, 0, 200, CpState.B)
    const t = await run(c, 200, 800, CpState.C)
    expect(c.contactor).toBe(true)
    return [c, t]
}

describe("pilot/contactor state machine (IEC 61851-1 Table A.6)", () => {
    beforeEach(yieldSlice)
    test("A: +12 V, no PWM, contactor open", async () => {
        const c = new IecController()
        c.offerA = 16
        c.permit = true
        await run(c, 0, 1000, CpState.A)
        expect(c.pilotLevel).toBe(PilotLevel.Plus12V)
        expect(c.contactor).toBe(false)
    })
    test("no PWM and no contactor without permission (B1/C1)", async () => {
        const c = new IecController()
        c.offerA = 16
        await run(c, 0, 2000, CpState.C)
        expect(c.pilotLevel).toBe(PilotLevel.Plus12V)
        expect(c.contactor).toBe(false)
    })
    test("seq. 4: closes after C is stable for 500 ms, well within 3 s", async () => {
        const c = new IecController()
        c.offerA = 16
        c.permit = true
        let t = await run(c, 0, 200, CpState.B)
        expect(c.pilotLevel).toBe(266)
        t = await run(c, t, 480, CpState.C)
        expect(c.contactor).toBe(false)
        t = await run(c, t, 60, CpState.C)
        expect(c.contactor).toBe(true)
    })
    test("seq. 8.1: C→B opens within two samples (40 ms ≤ 100 ms)", async () => {
        const [c, t] = await charging()
        c.step(t, CpState.B, true)
        expect(c.contactor).toBe(true)
        c.step(t + 20, CpState.B, true)
        expect(c.contactor).toBe(false)
    })
    test("→A, E, F and diode fault open within two samples", async () => {
        for (const s of [CpState.A, CpState.E, CpState.F, CpState.DiodeFault]) {
            const [c, t] = await charging()
            c.step(t, s, true)
            c.step(t + 20, s, true)
            expect(c.contactor).toBe(false)
        }
    })
    test("a single odd sample does not open (debounce)", async () => {
        const [c, t] = await charging()
        c.step(t, CpState.B, true)
        c.step(t + 20, CpState.C, true)
        c.step(t + 40, CpState.C, true)
        expect(c.contactor).toBe(true)
    })
    test("every fatal fault bit opens at once and drives F for at least 300 ms", async () => {
        for (let bit = 2; bit <= 0x1000; bit <<= 1) {
            const [c, t] = await charging()
            c.boardFaults = bit
            c.step(t, CpState.C, true)
            expect(c.contactor).toBe(false)
            expect(c.pilotLevel).toBe(PilotLevel.Minus12V)
            // a fault that clears after 40 ms still gives 300 ms of F
            c.step(t + 20, CpState.F, false)
            c.boardFaults = 0
            c.step(t + 40, CpState.F, false)
            c.step(t + 280, CpState.F, false)
            expect(c.pilotLevel).toBe(PilotLevel.Minus12V)
            c.step(t + 320, CpState.F, false)
            expect(c.pilotLevel).toBe(266)
        }
    })
    test("warnings (missing phase, Modbus lost, storage) do not stop charging", async () => {
        const [c, t] = await charging()
        c.boardFaults = 0x2000 | 0x4000 | 0x8000
        await run(c, t, 200, CpState.C)
        expect(c.contactor).toBe(true)
        expect(c.fatalFaults()).toBe(0)
    })
    test("diode fault: +12 V (no PWM) so the unplug that clears it is seen", async () => {
        const [c, t] = await charging()
        let u = await run(c, t, 60, CpState.DiodeFault)
        expect(c.faults()).toBe(EvseFault.ControlPilot)
        expect(c.pilotLevel).toBe(PilotLevel.Plus12V)
        u = await run(c, u, 2000, CpState.B)
        expect(c.faults()).toBe(EvseFault.ControlPilot)
        await run(c, u, 60, CpState.A)
        expect(c.faults()).toBe(0)
    })
    test("seq. 10: PWM removed while charging; the EV has 6 s before the contactor opens under load", async () => {
        const [c, t] = await charging()
        c.permit = false
        c.offerA = 0
        let u = await run(c, t, 5900, CpState.C)
        expect(c.pilotLevel).toBe(PilotLevel.Plus12V)
        expect(c.contactor).toBe(true)
        await run(c, u, 200, CpState.C)
        expect(c.contactor).toBe(false)
    })
    test("seq. 10: an EV that goes to B when the PWM goes is released at once", async () => {
        const [c, t] = await charging()
        c.permit = false
        c.offerA = 0
        const u = await run(c, t, 1000, CpState.C)
        await run(c, u, 40, CpState.B)
        expect(c.contactor).toBe(false)
    })
    test("PWM raised at most every 5 s while charging, lowered at once", async () => {
        const [c, t] = await charging(16)
        c.offerA = 32
        let u = await run(c, t, 1000, CpState.C)
        expect(c.pilotLevel).toBe(266)
        u = await run(c, u, 4200, CpState.C)
        expect(c.pilotLevel).toBe(533)
        c.offerA = 10
        c.step(u, CpState.C, true)
        expect(c.pilotLevel).toBe(166)
    })
    test("no return to C within 5 s of opening", async () => {
        const [c, t] = await charging()
        let u = await run(c, t, 100, CpState.B)
        expect(c.contactor).toBe(false)
        u = await run(c, u, 3000, CpState.C)
        expect(c.contactor).toBe(false)
        await run(c, u, 2100, CpState.C)
        expect(c.contactor).toBe(true)
    })
    test("state D charges only with ventilation allowed", async () => {
        const c = new IecController()
        c.offerA = 16
        c.permit = true
        let t = await run(c, 0, 2000, CpState.D)
        expect(c.contactor).toBe(false)
        c.ventilationAllowed = true
        await run(c, t, 1000, CpState.D)
        expect(c.contactor).toBe(true)
    })
    test("one wake-up: −12 V for 3 s after 30 s in B2, then PWM again; the EV stays connected", async () => {
        const c = new IecController()
        c.offerA = 16
        c.permit = true
        let t = await run(c, 0, WAKE_UP_AFTER_MS + 100, CpState.B)
        expect(c.pilotLevel).toBe(PilotLevel.Minus12V)
        t = await run(c, t, 2800, CpState.F)
        expect(c.pilotLevel).toBe(PilotLevel.Minus12V)
        expect(c.evConnected()).toBe(true)
        t = await run(c, t, 300, CpState.F)
        expect(c.pilotLevel).toBe(266)
        // no second wake-up for the same plug-in
        await run(c, t, WAKE_UP_AFTER_MS + 5000, CpState.B)
        expect(c.pilotLevel).toBe(266)
    })
    test("unavailable: state F, nothing closes", async () => {
        const c = new IecController()
        c.offerA = 16
        c.permit = true
        c.available = false
        await run(c, 0, 1000, CpState.C)
        expect(c.pilotLevel).toBe(PilotLevel.Minus12V)
        expect(c.contactor).toBe(false)
    })
    test("a welded contactor (mirror still closed after opening) latches a relay fault", async () => {
        const [c, t] = await charging()
        c.permit = false
        c.offerA = 0
        let u = await run(c, t, 100, CpState.B)
        expect(c.contactor).toBe(false)
        for (let i = 0; i < 30; i++) c.step(u + i * 20, CpState.B, true)
        expect(c.faults() & EvseFault.RelayFault).toBe(EvseFault.RelayFault)
        expect(c.pilotLevel).toBe(PilotLevel.Minus12V)
        // latched: the mirror contact opening later does not clear it
        await run(c, u + 600, 2000, CpState.B)
        expect(c.faults() & EvseFault.RelayFault).toBe(EvseFault.RelayFault)
    })
    test("after a restart the contacts get the usual time to open before a relay fault", async () => {
        const c = new IecController()
        // uptime does not restart with the program; the mirror contact still reads closed
        c.step(100000, CpState.C, true)
        c.step(100200, CpState.C, true)
        c.step(100400, CpState.C, false)
        await run(c, 100420, 2000, CpState.C)
        expect(c.faults()).toBe(0)
    })
    test("a contactor that does not close is a relay fault too", async () => {
        const c = new IecController()
        c.offerA = 16
        c.permit = true
        let t = await run(c, 0, 1000, CpState.C)
        expect(c.contactor).toBe(true)
        for (let i = 0; i < 30; i++) c.step(t + i * 20, CpState.C, false)
        expect(c.faults() & EvseFault.RelayFault).toBe(EvseFault.RelayFault)
        expect(c.contactor).toBe(false)
    })
})

describe("S0 pulse input", () => {
    beforeEach(yieldSlice)
    test("61 Hz (22 kW at 10 000 imp/kWh), 8 ms pulses, polled every 5 ms with jitter: no pulse lost", async () => {
        const c = new S0Counter()
        const periodUs = 16393
        let t = 0
        let k = 0
        // pulses for 10 s; poll times 5 ms apart ± 1 ms
        while (t < 10050000) {
            const phase = t % periodUs
            // the pulses that start within the first 10 s and end within it: 610
            c.sample(t - phase + 8000 <= 10000000 && phase < 8000 ? 0 : 1)
            t += 5000 + ((k * 7919) % 2001) - 1000
            if (++k % 500 === 0) await yieldSlice()
        }
        expect(c.pulses).toBe(Math.floor((10000000 - 8000) / periodUs) + 1)
    })
    test("standard 30 ms pulses at 6.1 Hz with 10 ms polling (ESP32 main loop)", () => {
        const c = new S0Counter()
        for (let t = 0; t < 10000; t += 10) c.sample(t % 164 < 30 ? 0 : 1)
        expect(c.pulses).toBe(61)
    })
})

describe("energy register from S0 pulses", () => {
    beforeEach(yieldSlice)
    test("integer Wh at 1000 and 800 imp/kWh, continues from a restored value", () => {
        const m = new EnergyMeter()
        m.restore(12345)
        m.update(7, 0)
        m.update(107, 1000)
        expect(m.energyWh()).toBe(12445)
        m.impPerKwh = 800
        const n = new EnergyMeter()
        n.impPerKwh = 800
        n.update(0, 0)
        n.update(9, 100)
        expect(n.energyWh()).toBe(11)
    })
    test("power from the pulse interval", () => {
        const m = new EnergyMeter()
        m.update(0, 0)
        m.update(1, 1000)
        m.update(2, 1327)
        // 1 Wh per 327 ms = 11 009 W
        expect(m.powerW(1327)).toBe(11009)
        expect(m.powerW(60000)).toBe(0)
    })
    test("a counter restart (board power cycle) never moves the register back", () => {
        const m = new EnergyMeter()
        m.update(500, 0)
        m.update(600, 100)
        m.update(3, 200)
        m.update(10, 300)
        expect(m.energyWh()).toBe(107)
    })
})

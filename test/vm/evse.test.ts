import { describe, test, expect, beforeEach } from "@devicescript/test"
import { yieldSlice } from "./harness"
import { pilotStateFromMillivolts, dutyPermilleForCurrent, currentForDutyPermille, CpState } from "../../src/evse/pilot"
import { IecController, EvseFault } from "../../src/evse/iec"
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

/** Run the controller for `ms` at 20 ms steps with a constant raw pilot state. */
function run(c: IecController, fromMs: number, ms: number, raw: number) {
    let t = fromMs
    for (; t < fromMs + ms; t += 20) c.step(t, raw, c.contactor)
    return t
}

describe("pilot/contactor state machine", () => {
    beforeEach(yieldSlice)
    test("no PWM and no contactor without permission", () => {
        const c = new IecController()
        run(c, 0, 2000, CpState.C)
        expect(c.pilotLevel).toBe(PilotLevel.Plus12V)
        expect(c.contactor).toBe(false)
    })
    test("closes after C is stable, only with PWM and permission", () => {
        const c = new IecController()
        c.offerA = 16
        c.permit = true
        let t = run(c, 0, 200, CpState.B)
        expect(c.pilotLevel).toBe(266)
        t = run(c, t, 400, CpState.C)
        expect(c.contactor).toBe(false)
        t = run(c, t, 200, CpState.C)
        expect(c.contactor).toBe(true)
    })
    test("opens within two samples of C→B (seq. 8.1, ≤ 100 ms)", () => {
        const c = new IecController()
        c.offerA = 16
        c.permit = true
        let t = run(c, 0, 1000, CpState.C)
        expect(c.contactor).toBe(true)
        c.step(t, CpState.B, true)
        c.step(t + 20, CpState.B, true)
        expect(c.contactor).toBe(false)
    })
    test("a board fault opens the contactor and drives state F", () => {
        const c = new IecController()
        c.offerA = 16
        c.permit = true
        let t = run(c, 0, 1000, CpState.C)
        c.boardFaults = 0x0002
        c.step(t, CpState.C, true)
        expect(c.contactor).toBe(false)
        expect(c.pilotLevel).toBe(PilotLevel.Minus12V)
    })
    test("a contactor that does not open is latched as relay fault", () => {
        const c = new IecController()
        c.offerA = 16
        c.permit = true
        let t = run(c, 0, 1000, CpState.C)
        c.permit = false
        c.offerA = 0
        // EV leaves C; mirror contact keeps reporting closed (welded)
        for (let i = 0; i < 40; i++) c.step(t + i * 20, CpState.B, true)
        expect(c.contactor).toBe(false)
        expect(c.faults() & EvseFault.RelayFault).toBe(EvseFault.RelayFault)
        expect(c.pilotLevel).toBe(PilotLevel.Minus12V)
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

// IEC 61851-1 control pilot: duty cycle ↔ current (Annex A, Table A.8) and the
// classification of the sensed pilot voltage into states A-F (Table A.4 levels,
// ±1.1 V windows as EVerest and Pionix use). Pure functions: no hardware, no time.

export const enum CpState {
    Unknown = 0,
    A = 1,
    B = 2,
    C = 3,
    D = 4,
    E = 5,
    F = 6,
    /** PWM on but the low plateau is not at −12 V: the EV's diode is missing or shorted */
    DiodeFault = 7,
}

/** "A".."F", "DF" (diode fault), "?" (between windows). */
export function cpStateName(s: number) {
    return "?ABCDEF"[s] || "DF"
}

const WINDOW_MV = 1100
/** Offered currents: the EV may draw 6 A at least, 80 A at most (Table A.8). */
export const MIN_CURRENT_A = 6
export const MAX_CURRENT_A = 80

/**
 * Pilot state from the high and low plateau of the sensed pilot (mV).
 * @param pwmOn whether the EVSE is driving PWM (the low plateau then exists and
 *  must sit at −12 V, otherwise the EV's diode is faulty)
 */
export function pilotStateFromMillivolts(highMv: number, lowMv: number, pwmOn: boolean): number {
    let s = CpState.Unknown
    if (highMv < -12000 + WINDOW_MV) return CpState.F
    for (let level = 4; level >= 0; level--) {
        // level 4 = 12 V (A), 3 = 9 V (B), 2 = 6 V (C), 1 = 3 V (D), 0 = 0 V (E)
        const mv = level * 3000
        if (highMv >= mv - WINDOW_MV && highMv <= mv + WINDOW_MV) s = 5 - level
    }
    if (pwmOn && (s === CpState.B || s === CpState.C || s === CpState.D) && lowMv > -12000 + WINDOW_MV)
        return CpState.DiodeFault
    return s
}

/**
 * PWM duty (per mille, rounded down to the 0.1 % the hardware resolves, so the EV
 * never reads more than offered) for an offered current; 0 below 6 A.
 */
export function dutyPermilleForCurrent(amps: number) {
    if (!(amps >= MIN_CURRENT_A)) return 0
    if (amps > MAX_CURRENT_A) amps = MAX_CURRENT_A
    // 6-51 A: d = I / 0.6 %; 51-80 A: d = I / 2.5 + 64 %
    return Math.floor(amps <= 51 ? (amps * 50) / 3 : amps * 4 + 640)
}

/** Current (A) an EV reads from a duty in per mille (Table A.8); 0 when no current is allowed. */
export function currentForDutyPermille(d: number) {
    if (d < 80 || d > 970) return 0
    if (d < 100) return 6
    if (d <= 850) return (d * 6) / 100
    if (d <= 960) return ((d - 640) * 5) / 20
    return 80
}

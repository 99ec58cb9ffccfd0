// The pilot/contactor state machine (IEC 61851-1 Annex A), apart from OCPP.
//
// step() takes the time and the sampled pilot state and decides the pilot output and
// the contactor; the caller applies the decisions to the hardware. The session layer
// only sets what it allows (offer, permit); every safety rule lives here:
// - close within 3 s of B→C (Table A.6 seq. 4) only when permitted and PWM is on;
// - open at once on C→B (seq. 8.1, ≤ 100 ms), →A, E, F, diode fault, any fault bit;
// - PWM off while charging (seq. 10.1): the EV must stop within 3 s; open under load
//   after 6 s (seq. 10.2);
// - PWM raised at most every 5 s while charging; lowering is applied at once;
// - state F for at least 300 ms after a fault; no return to C within 5 s;
// - state D only with ventilation allowed; one EV wake-up (F for 3 s) after 30 s in
//   B2 without C (A.5.3 / ISO 15118-3 wake-up);
// - mirror contact checked after every switch: not open = welded (latched fault).
import { CpState, dutyPermilleForCurrent } from "./pilot"
import { PilotLevel } from "../hal/hardware"

export const PILOT_DEBOUNCE_SAMPLES = 2
export const CLOSE_STABLE_MS = 500
export const PWM_OFF_FORCE_OPEN_MS = 6000
export const PWM_RAISE_INTERVAL_MS = 5000
export const FAULT_STATE_F_MS = 300
export const RETURN_TO_C_BLOCK_MS = 5000
export const WAKE_UP_AFTER_MS = 30000
export const WAKE_UP_PULSE_MS = 3000
export const UNKNOWN_PILOT_TIMEOUT_MS = 500
/** Time the mirror contact may lag the coil before the contactor counts as failed. */
export const FEEDBACK_TIMEOUT_MS = 500

/** Fault bits (the seed's error table) raised by this machine itself. */
export const enum EvseFault {
    ControlPilot = 0x0100,
    RelayFault = 0x0400,
}

export class IecController {
    // ---- inputs (set by the session layer and the board) ----
    /** Current the session allows, A (0 or < 6: no PWM). */
    offerA = 0
    /** Session permits energy transfer (authorised and, per config, transaction started). */
    permit = false
    /** Connector operative (ChangeAvailability). */
    available = true
    /** Charging in state D (ventilation requested) is allowed. */
    ventilationAllowed = false
    /** Fault bits from the board (residual current, over-temperature, ...). */
    boardFaults = 0

    // ---- state ----
    /** Debounced pilot state. */
    state = CpState.Unknown
    stateSinceMs = 0
    /** Fault bits this machine latched (welded contactor, diode fault). */
    latchedFaults = 0
    private rawLast = CpState.Unknown
    private rawCount = 0
    private unknownSinceMs = -1
    private faultSinceMs = -1
    private faultClearedMs = -1
    private pwmOffSinceMs = -1
    private openedMs = -100000
    private dutyChangedMs = -100000
    private switchedMs = 0
    private wakeUntilMs = -1
    private wakeUsed = false
    private b2SinceMs = -1

    // ---- outputs ----
    /** Pilot output: PilotLevel or PWM duty per mille. */
    pilotLevel: number = PilotLevel.Plus12V
    contactor = false

    /** All active fault bits. */
    faults() {
        return this.boardFaults | this.latchedFaults
    }

    /** PWM duty in per mille when PWM is on, else 0. */
    dutyPermille() {
        return this.pilotLevel > 0 && this.pilotLevel < 1000 ? this.pilotLevel : 0
    }

    /** Clear latched faults that the operator may clear (not a welded contactor). */
    clearLatched(mask: number) {
        this.latchedFaults &= ~mask
    }

    /**
     * Advance the machine.
     * @param nowMs monotonic time
     * @param raw pilot state classified from the latest sample
     * @param feedbackClosed mirror contact of the contactor
     */
    step(nowMs: number, raw: number, feedbackClosed: boolean) {
        this.debounce(nowMs, raw)
        const s = this.state
        // a diode fault latches until the EV is unplugged (A)
        if (s === CpState.DiodeFault) this.latchedFaults |= EvseFault.ControlPilot
        else if (s === CpState.A) this.latchedFaults &= ~EvseFault.ControlPilot
        this.checkFeedback(nowMs, feedbackClosed)

        const faults = this.faults()
        if (faults) {
            if (this.faultSinceMs < 0) this.faultSinceMs = nowMs
            this.faultClearedMs = -1
        } else if (this.faultSinceMs >= 0) {
            if (this.faultClearedMs < 0) this.faultClearedMs = nowMs
            // keep F for at least FAULT_STATE_F_MS after the fault started
            if (nowMs - this.faultSinceMs >= FAULT_STATE_F_MS) this.faultSinceMs = -1
        }
        const inFaultF = faults !== 0 || this.faultSinceMs >= 0

        // wake-up: once per plug-in, after 30 s in B2 without C
        if (s === CpState.A) {
            this.wakeUsed = false
            this.b2SinceMs = -1
        }
        const duty = dutyPermilleForCurrent(this.offerA)
        const evConnected = s === CpState.B || s === CpState.C || s === CpState.D
        if (s === CpState.B && this.dutyPermille() > 0) {
            if (this.b2SinceMs < 0) this.b2SinceMs = nowMs
            if (!this.wakeUsed && nowMs - this.b2SinceMs >= WAKE_UP_AFTER_MS) {
                this.wakeUsed = true
                this.wakeUntilMs = nowMs + WAKE_UP_PULSE_MS
            }
        } else if (s !== CpState.F) this.b2SinceMs = -1
        const waking = this.wakeUntilMs > nowMs

        // ---- pilot output ----
        let level: number
        if (inFaultF || !this.available || waking) level = PilotLevel.Minus12V
        else if (duty > 0 && (evConnected || s === CpState.F || s === CpState.Unknown)) level = duty
        else level = PilotLevel.Plus12V
        if (level > 0 && level < 1000) {
            const cur = this.dutyPermille()
            // raising while charging: at most every 5 s (EV response time); lowering at once
            if (cur > 0 && level > cur && this.contactor && nowMs - this.dutyChangedMs < PWM_RAISE_INTERVAL_MS)
                level = cur
        }
        if (level !== this.pilotLevel) {
            if (level > 0 && level < 1000) this.dutyChangedMs = nowMs
            this.pilotLevel = level
        }
        const pwmOn = this.dutyPermille() > 0
        if (pwmOn) this.pwmOffSinceMs = -1
        else if (this.pwmOffSinceMs < 0) this.pwmOffSinceMs = nowMs

        // ---- contactor ----
        const energyState = s === CpState.C || (s === CpState.D && this.ventilationAllowed)
        let close = this.contactor
        if (!energyState || faults || !this.available || waking) close = false
        else if (!this.contactor) {
            close =
                pwmOn &&
                this.permit &&
                nowMs - this.stateSinceMs >= CLOSE_STABLE_MS &&
                nowMs - this.openedMs >= RETURN_TO_C_BLOCK_MS
        } else if (!pwmOn || !this.permit) {
            // PWM removed: the EV should move to B; open under load after 6 s at the latest
            if (this.pwmOffSinceMs >= 0 && nowMs - this.pwmOffSinceMs >= PWM_OFF_FORCE_OPEN_MS) close = false
        }
        if (close !== this.contactor) {
            this.contactor = close
            this.switchedMs = nowMs
            if (!close) this.openedMs = nowMs
        }
    }

    private debounce(nowMs: number, raw: number) {
        if (raw === CpState.Unknown) {
            // between windows (e.g. an edge was sampled): only a lasting reading counts
            if (this.unknownSinceMs < 0) this.unknownSinceMs = nowMs
            if (nowMs - this.unknownSinceMs < UNKNOWN_PILOT_TIMEOUT_MS) return
        } else this.unknownSinceMs = -1
        if (raw === this.rawLast) this.rawCount++
        else {
            this.rawLast = raw
            this.rawCount = 1
        }
        if (this.rawCount >= PILOT_DEBOUNCE_SAMPLES && raw !== this.state) {
            this.state = raw
            this.stateSinceMs = nowMs
        }
    }

    private checkFeedback(nowMs: number, closed: boolean) {
        if (nowMs - this.switchedMs < FEEDBACK_TIMEOUT_MS || closed === this.contactor) return
        // open commanded but contacts closed: welded; closed commanded but open: relay fault
        this.latchedFaults |= EvseFault.RelayFault
    }
}

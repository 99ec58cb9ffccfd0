// The pilot/contactor state machine (IEC 61851-1 Annex A), apart from OCPP.
//
// step() takes the time and the sampled pilot state and decides the pilot output and
// the contactor; the caller applies the decisions to the hardware. The session layer
// only sets what it allows (offer, permit); every safety rule lives here:
// - close within 3 s of B→C (Table A.6 seq. 4) only when permitted and PWM is on;
// - open at once on C→B (seq. 8.1, ≤ 100 ms), →A, E, F, diode fault, any fatal fault;
// - PWM off while charging (seq. 10.1): the EV must stop within 3 s; open under load
//   after 6 s (seq. 10.2);
// - PWM raised at most every 5 s while charging (the EV's response time); lowering is
//   applied at once;
// - state F for at least 300 ms after a fault (Table A.5), then X1; no return to C
//   within 5 s of opening;
// - state D only with ventilation allowed (configuration);
// - one EV wake-up after 30 s in B2 without C: −12 V for 3 s (A.5.3);
// - mirror contact checked continuously and after every switch: a contactor that does
//   not follow its coil is a latched relay fault (welded or failed to close).
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

/** Faults that only warn: charging goes on (external load management, storage, phase). */
export const WARNING_FAULTS = 0x2000 | 0x4000 | 0x8000

export class IecController {
    // ---- inputs (set by the session layer and the board) ----
    /** Current the session allows, A (below 6 A: no PWM). */
    offerA = 0
    /** Session permits energy transfer (authorised and, per config, transaction started). */
    permit = false
    /** Connector operative (ChangeAvailability): otherwise state F. */
    available = true
    /** Charging in state D (ventilation requested) is allowed. */
    ventilationAllowed = false
    /** Fault bits from the board (residual current, over-temperature, ...). */
    boardFaults = 0

    // ---- state ----
    /** Debounced pilot state as sampled (F while the EVSE itself drives −12 V). */
    state = CpState.Unknown
    stateSinceMs = 0
    /**
     * The EV's side of the pilot (A..E): the last such state seen. Kept while the EVSE
     * drives state F (fault, wake-up, unavailable), when the EV cannot be seen.
     */
    evState = CpState.Unknown
    /** Fault bits this machine latched (relay fault; diode fault until unplugged). */
    latchedFaults = 0
    private rawLast = CpState.Unknown
    private rawCount = 0
    private unknownSinceMs = -1
    private faultSinceMs = -1
    private pwmOffSinceMs = -1
    private openedMs = -100000
    private dutyChangedMs = -100000
    /** When the contactor was last switched; -1 until the first step (boot counts as a switch). */
    private switchedMs = -1
    private wakeUntilMs = -1
    private wakeUsed = false
    private b2SinceMs = -1
    /** When the contactor last closed (for the session's "is the EV drawing" check). */
    closedSinceMs = -1

    // ---- outputs ----
    /** Pilot output: PilotLevel or PWM duty per mille. */
    pilotLevel: number = PilotLevel.Plus12V
    contactor = false

    /** All active fault bits. */
    faults() {
        return this.boardFaults | this.latchedFaults
    }

    /** Faults that stop charging (everything but WARNING_FAULTS). */
    fatalFaults() {
        return this.faults() & ~WARNING_FAULTS
    }

    /** PWM duty in per mille when PWM is on, else 0. */
    dutyPermille() {
        return this.pilotLevel > 0 && this.pilotLevel < 1000 ? this.pilotLevel : 0
    }

    /** True while the EV is connected (B, C or D), as far as the EVSE last saw. */
    evConnected() {
        const s = this.evState
        return s === CpState.B || s === CpState.C || s === CpState.D
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
        if (s >= CpState.A && s <= CpState.E) this.evState = s
        // a diode fault (Table A.4 check) latches until the EV is unplugged
        if (s === CpState.DiodeFault) this.latchedFaults |= EvseFault.ControlPilot
        else if (s === CpState.A) this.latchedFaults &= ~EvseFault.ControlPilot
        this.checkFeedback(nowMs, feedbackClosed)

        const fatal = this.fatalFaults()
        // the latched diode fault keeps +12 V (no PWM) so the unplug that clears it can be
        // seen; every other fatal fault, the board's pilot error 0x0100 included, drives F
        const fatalF = (this.boardFaults | (this.latchedFaults & ~EvseFault.ControlPilot)) & ~WARNING_FAULTS
        if (fatalF) {
            if (this.faultSinceMs < 0) this.faultSinceMs = nowMs
        } else if (this.faultSinceMs >= 0 && nowMs - this.faultSinceMs >= FAULT_STATE_F_MS) this.faultSinceMs = -1
        const faultF = fatalF !== 0 || this.faultSinceMs >= 0

        // wake-up: once per plug-in, after 30 s in B2 without C
        if (this.evState === CpState.A) this.wakeUsed = false
        if (s === CpState.B && this.dutyPermille() > 0) {
            if (this.b2SinceMs < 0) this.b2SinceMs = nowMs
            if (!this.wakeUsed && nowMs - this.b2SinceMs >= WAKE_UP_AFTER_MS) {
                this.wakeUsed = true
                this.wakeUntilMs = nowMs + WAKE_UP_PULSE_MS
            }
        } else if (s !== CpState.F) this.b2SinceMs = -1
        const waking = this.wakeUntilMs > nowMs

        // ---- pilot output ----
        const duty = fatal ? 0 : dutyPermilleForCurrent(this.offerA)
        let level: number
        if (faultF || !this.available || waking) level = PilotLevel.Minus12V
        else if (duty > 0 && this.permit && this.evConnected()) level = duty
        else level = PilotLevel.Plus12V
        const cur = this.dutyPermille()
        // raising while charging: at most every 5 s (EV response time); lowering at once
        if (level > cur && cur > 0 && level < 1000 && this.contactor && nowMs - this.dutyChangedMs < PWM_RAISE_INTERVAL_MS)
            level = cur
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
        if (!energyState || fatal || !this.available || waking) close = false
        else if (!this.contactor)
            close =
                pwmOn &&
                this.permit &&
                nowMs - this.stateSinceMs >= CLOSE_STABLE_MS &&
                nowMs - this.openedMs >= RETURN_TO_C_BLOCK_MS
        else if (!pwmOn && nowMs - this.pwmOffSinceMs >= PWM_OFF_FORCE_OPEN_MS) close = false
        if (close !== this.contactor) {
            this.contactor = close
            this.switchedMs = nowMs
            if (close) this.closedSinceMs = nowMs
            else {
                this.openedMs = nowMs
                this.closedSinceMs = -1
            }
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
        // after a program restart the contacts may still be closed from before: the coil
        // was just released, so they get the same time to open as after any switch
        if (this.switchedMs < 0) this.switchedMs = nowMs
        if (nowMs - this.switchedMs < FEEDBACK_TIMEOUT_MS || closed === this.contactor) return
        // open commanded but contacts closed (welded), or closed commanded but open
        this.latchedFaults |= EvseFault.RelayFault
    }
}

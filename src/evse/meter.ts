// Energy register from S0 pulses (IEC 62053-31: pulses ≥ 30 ms, typically 1000 imp/kWh).
// The register is integer Wh, monotonic, and carried over reboots by the caller
// (persisted at least every PERSIST_STEP_WH and at transaction boundaries).

export const PERSIST_STEP_WH = 100

export class EnergyMeter {
    /** Meter constant, impulses per kWh. */
    impPerKwh = 1000
    /** Register value at the reference pulse count, Wh. */
    private baseWh = 0
    private basePulses = -1
    private lastPulses = -1
    private lastPulseMs = -1
    private pulseIntervalMs = 0
    /** Register value last persisted, Wh. */
    persistedWh = 0

    /** Start from a persisted register value. */
    restore(wh: number) {
        this.baseWh = wh
        this.persistedWh = wh
        this.basePulses = -1
    }

    /** Feed the pulse counter (monotonic count since boot) at time nowMs. */
    update(pulses: number, nowMs: number) {
        if (this.basePulses < 0 || pulses < this.basePulses) {
            // first reading, or the counter restarted: keep the register, rebase
            if (this.basePulses >= 0) this.baseWh = this.energyWh()
            this.basePulses = pulses
            this.lastPulses = pulses
            return
        }
        if (pulses !== this.lastPulses) {
            if (this.lastPulseMs >= 0) this.pulseIntervalMs = (nowMs - this.lastPulseMs) / (pulses - this.lastPulses)
            this.lastPulseMs = nowMs
            this.lastPulses = pulses
        }
    }

    /** Energy register, integer Wh. */
    energyWh() {
        if (this.basePulses < 0) return this.baseWh
        return this.baseWh + Math.floor(((this.lastPulses - this.basePulses) * 1000) / this.impPerKwh)
    }

    /**
     * Active power from the pulse rate, W. Between pulses it decays as 1/t, so a stopped
     * flow reads 0 after three pulse intervals.
     */
    powerW(nowMs: number) {
        if (this.pulseIntervalMs <= 0 || this.lastPulseMs < 0) return 0
        const since = nowMs - this.lastPulseMs
        if (since > 3 * this.pulseIntervalMs && since > 3000) return 0
        const interval = since > this.pulseIntervalMs ? since : this.pulseIntervalMs
        return Math.round(3600000000 / (this.impPerKwh * interval))
    }

    /** True when the register moved PERSIST_STEP_WH past the last persisted value. */
    needsPersist() {
        return this.energyWh() - this.persistedWh >= PERSIST_STEP_WH
    }
}

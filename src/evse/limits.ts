// Charging current limits as slots (the Tinkerforge "charging slots" idea): every source
// of a limit writes its own slot, the pilot offers the minimum of the active ones, and
// the seed's read-only keys say which slot is in force:
//   ChargingLimitedBy        "UserSetMaxCurrent,16A" (every slot at the minimum, then the value)
//   ChargingLimitedChannels  "[RatedOutputCurrent:32A],[UserSetMaxCurrent:16A],..."
// Slot names follow the seed's style; values are in A (smart-charging limits in W are
// converted by their owner before they are written).

/** Slot ids: index into SLOT_NAMES. */
export const enum Slot {
    Rated = 0,
    UserSet = 1,
    SmartCharging = 2,
    DelayCharge = 3,
}

const SLOT_NAMES = ["RatedOutputCurrent", "UserSetMaxCurrent", "OcppSmartCharging", "DelayCharge"]
const INACTIVE = -1

/** Limits per slot in A; INACTIVE when the source imposes nothing. */
const slots = [INACTIVE, INACTIVE, INACTIVE, INACTIVE]

export function setLimit(slot: number, amps: number) {
    slots[slot] = amps
}

export function clearLimit(slot: number) {
    slots[slot] = INACTIVE
}

/** The current the pilot may offer now, A (the minimum over the active slots). */
export function offeredLimitA() {
    let min = 1000
    for (let i = 0; i < slots.length; i++) if (slots[i] !== INACTIVE && slots[i] < min) min = slots[i]
    return min === 1000 ? 0 : min
}

function amps(v: number) {
    return Math.round(v * 10) / 10 + "A"
}

/** ChargingLimitedBy: the slots in force (at the minimum), then the value. */
export function limitedBy() {
    const min = offeredLimitA()
    const names: string[] = []
    for (let i = 0; i < slots.length; i++) if (slots[i] !== INACTIVE && slots[i] === min) names.push(SLOT_NAMES[i])
    names.push(amps(min))
    return names.join(",")
}

/** ChargingLimitedChannels: every active slot with its value. */
export function limitedChannels() {
    const out: string[] = []
    for (let i = 0; i < slots.length; i++) if (slots[i] !== INACTIVE) out.push("[" + SLOT_NAMES[i] + ":" + amps(slots[i]) + "]")
    return out.join(",")
}

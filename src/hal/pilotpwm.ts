// Pilot PWM through the native buzzer server, the only 1 kHz PWM with a settable duty
// the runtime offers on the ESP32 (jacdac-c services/buzzer.c). Its quirks, all handled
// here so the rest of the firmware deals in per mille of +12 V time:
// - playTone(period µs, duty µs, duration ms): duty is scaled by the volume register
//   (duty·volume >> 8, volume written as the maximum 255) and then inverted (the pin is
//   high for period − duty), in 1 µs = 0.1 % steps at 1 kHz;
// - the tone stops after at most 65 535 ms and the pin then idles low, which the pilot
//   driver turns into −12 V (state F): a firmware that stops refreshing fails safe;
// - every playTone restarts the LEDC timer, so the waveform may glitch for one period
//   at each refresh (every REFRESH_MS) — well inside the EV's 5 s response time.
// The simulator board serves the same Buzzer service with the same semantics.
import * as ds from "@devicescript/core"
import { PilotLevel } from "./hardware"

export const PILOT_PERIOD_US = 1000
const TONE_MS = 65535
const REFRESH_MS = 30000
const VOLUME_MAX = 255

/** The duty argument of playTone that yields `highUs` of +12 V per period. */
export function toneDutyForHighTime(highUs: number) {
    // (duty * 255) >> 8 must equal period − high exactly; this is exact for 0..1000 µs
    return Math.ceil(((PILOT_PERIOD_US - highUs) * 256) / VOLUME_MAX)
}

export class PilotPwm {
    private level = -1
    private refreshedMs = 0
    private volumeSet = false

    constructor(private buzzer: ds.Buzzer) {}

    /** Output a PilotLevel or a duty in per mille; refreshes the tone before it expires. */
    async set(level: number) {
        const now = ds.millis()
        if (level === this.level && now - this.refreshedMs < REFRESH_MS) return
        if (!this.volumeSet) {
            await this.buzzer.intensity.write(1)
            this.volumeSet = true
        }
        const highUs = level === PilotLevel.Plus12V ? PILOT_PERIOD_US : level === PilotLevel.Minus12V ? 0 : level
        await this.buzzer.playTone(PILOT_PERIOD_US, toneDutyForHighTime(highUs), TONE_MS)
        this.level = level
        this.refreshedMs = now
    }
}

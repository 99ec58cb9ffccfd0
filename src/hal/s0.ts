// S0 pulse input (IEC 62053-31): the meter's output transistor conducts for each pulse,
// pulling the pulled-up input to 0. There are no GPIO interrupts and pin subscribe()
// polls only every 100 ms, so a fiber samples the level every S0_POLL_MS and counts
// falling edges. A pulse is counted when one sample falls inside it and one inside the
// gap before it: pulses and gaps of at least S0_POLL_MS plus scheduling jitter are never
// lost. At 5 ms that is up to ~100 Hz in the simulator; on the ESP32, whose main loop
// ticks every 10 ms, about 50 Hz — a 22 kW meter at 1000 imp/kWh gives 6.1 Hz and
// standard S0 pulses last ≥ 30 ms.
import * as ds from "@devicescript/core"

export const S0_POLL_MS = 5

/** Edge counter, fed with sampled levels. */
export class S0Counter {
    pulses = 0
    private last = 1

    /** One sample of the input (1 idle, 0 pulse). */
    sample(level: number) {
        if (level === 0 && this.last !== 0) this.pulses++
        this.last = level
    }
}

/** Poll `read` every S0_POLL_MS forever, counting into `counter`. */
export async function pollS0(read: () => Promise<number>, counter: S0Counter) {
    for (;;) {
        counter.sample(await read())
        await ds.sleep(S0_POLL_MS)
    }
}

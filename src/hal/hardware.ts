// What the wallbox logic needs from a board. Each board (boards/*.board.json) has one
// implementation: the ESP32 drivers (src/hal/esp32.ts) or the simulator board
// (src/hal/simboard.ts). Everything above this interface is the same for both.

/** Pilot output levels besides a PWM duty (per mille, 1..999). */
export const enum PilotLevel {
    /** −12 V: state F, EVSE not available (also what the pin does when left idle) */
    Minus12V = 0,
    /** +12 V steady: no PWM (states A, B1, C1) */
    Plus12V = 1000,
}

/** Provisioning written by the installer (TerraConfig step): not changed over OCPP here. */
export interface Provisioning {
    /** central system URL without the charge point id, ws:// or wss:// */
    url: string
    chargePointId: string
    /** HTTP Basic password; empty for none */
    authorizationKey: string
}

export interface Hardware {
    /** Board model for BootNotification (chargePointModel). */
    model: string
    /** Rated current of the supply and cable, A: the pilot never offers more. */
    ratedCurrentA: number
    /** Number of phases the contactor switches (for power and meter values). */
    phases: number
    /** True when the board measures current and voltage (not only S0 pulses). */
    measuresCurrentVoltage: boolean
    /** Meter constant of the S0 output, impulses per kWh. */
    s0ImpPerKwh: number
    /** A display for the driver (16 profiles per purpose instead of 3: seed §4.1). */
    hasDisplay: boolean
    /** A socket with a plug lock instead of a fixed cable: UnlockConnector applies. */
    socketOutlet: boolean
    /** Socket variants: lock or unlock the plug; false when the lock did not move. */
    setConnectorLock(locked: boolean): Promise<boolean>

    /** Drive the contactor coil. */
    setContactor(closed: boolean): Promise<void>
    /** Mirror contact: true when the main contacts are closed. */
    contactorClosed(): Promise<boolean>

    /** Pilot output: a PilotLevel or a 1 kHz PWM duty in per mille (1..999). */
    setPilot(level: number): Promise<void>
    /**
     * Sample the pilot and store the high and low plateau (mV, pilot side) in
     * pilotHighMv / pilotLowMv.
     */
    samplePilot(): Promise<void>
    pilotHighMv: number
    pilotLowMv: number

    /** Level of the S0 input: 1 idle, 0 during a pulse (counted by src/hal/s0.ts). */
    s0Level(): Promise<number>
    /** Per-phase current (mA) and voltage (mV) where measured (measuresCurrentVoltage). */
    currentMa: number
    voltageMv: number
    sampleMeter(): Promise<void>

    /** UID of the card in the reader's field, or undefined. */
    readCard(): Promise<Buffer>
    /** ChangeNFCPower: reader power 0..255 (receiver gain) and on/off. */
    setCardReader(power: number, enabled: boolean): void
    /**
     * The FeliCa card last read, on boards whose reader reads FeliCa (the MFRC522 reads
     * ISO 14443A only): IDm (8 bytes), Data Format Code (2), then the EneKey data from
     * S_PAD0. readCard() gives the IDm for such a card.
     */
    felica?: Buffer

    /** Hardware fault bits (the seed's error table: 0x0002 residual current, ...). */
    faultBits(): Promise<number>

    /** Installer provisioning, or undefined while the device is not provisioned. */
    provisioning(): Promise<Provisioning>

    /**
     * Show the charge point state to the user (LED, display); called every outbox pass.
     * @param status OCPP connector status, or "Offline" without a central system
     * @param line compact JSON with the details (docs/simulator.md, "display")
     */
    showStatus(status: string, line: string): Promise<void>
    /**
     * Boards with a display: the price screen (seed §6.2.2 CTEP) as [price text, cost,
     * QR-code text], "" where there is nothing. Texts may be longer than the display takes.
     */
    showPrice?(screen: string[]): Promise<void>
}

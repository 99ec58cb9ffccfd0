// Firmware entry for the ESP32 board (boards/wallbox_esp32.board.json).
import { pins, board } from "@dsboard/wallbox_esp32"
import { Esp32Board } from "./hal/esp32"
import { startWallbox } from "./app"

async function main() {
    const hw = new Esp32Board(
        {
            contactor: pins.CONTACTOR,
            contactorFeedback: pins.CONTACTOR_FB,
            pilotSense: pins.PILOT_SENSE,
            s0: pins.S0_IN,
            rfidCs: pins.RFID_CS,
            rfidReset: pins.RFID_RST,
            rfidSck: pins.RFID_SCK,
            rfidMosi: pins.RFID_MOSI,
            rfidMiso: pins.RFID_MISO,
            rcdTrip: pins.RCD_TRIP,
            statusLed: pins.STATUS_LED,
        },
        board.startPilotPwm()
    )
    await startWallbox(hw)
}
main.start()

import * as ds from "@devicescript/core"
import { pins, board } from "@dsboard/wallbox_esp32"
const pwm = board.startPilotPwm()
setInterval(async () => {
    await pwm.playTone(1000, 500, 1000)
    console.log(pins.CONTACTOR_FB.value)
}, 1000)

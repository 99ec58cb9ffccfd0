// VM unit tests: `devs run test/vm/main.ts --test --test-self-exit`
import "./util.test"
import "./ocpp.test"
import "./evse.test"
import "./rfid.test"
import "./config.test"
import "./store.test"
import "./localauth.test"

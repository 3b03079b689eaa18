// Headset hook sensor for homebridge-presence-bridge.
//
// A switch (a reed switch under the headset cradle, or the hook switch of a desk phone) between
// pin 2 and GND. Lifting the headset opens the switch. The sketch prints one line per change:
//   OFFHOOK   headset lifted   -> map it to Busy/InACall
//   ONHOOK    headset put down -> map it to clear
// It also prints the current state at start-up, every 60 s, and whenever it receives the line
// STATE? (the bridge sends it each time it opens the port when the input sets
// "queryOnOpen": "STATE?\n"), so the bridge learns it after a restart or a replug at once (a
// repeated line with the same presence makes no Graph call).

const uint8_t HOOK_PIN = 2;            // switch to GND, internal pull-up
const bool CLOSED_MEANS_ONHOOK = true; // flip if your switch closes when the headset is lifted
const unsigned long DEBOUNCE_MS = 50;
const unsigned long REPEAT_MS = 60000;

bool offHook = false;
bool lastReading = false;
unsigned long changedAt = 0;
unsigned long reportedAt = 0;
char query[16];
uint8_t queryLength = 0;

bool readOffHook() {
  bool closed = digitalRead(HOOK_PIN) == LOW;
  return CLOSED_MEANS_ONHOOK ? !closed : closed;
}

void report() {
  Serial.println(offHook ? "OFFHOOK" : "ONHOOK");  // println ends lines with \r\n: accepted
  reportedAt = millis();
}

// Reads what the bridge sends; answers the line STATE? with the current state.
void answerQueries() {
  while (Serial.available() > 0) {
    char c = Serial.read();
    if (c == '\r') continue;
    if (c != '\n') {
      if (queryLength < sizeof(query) - 1) query[queryLength++] = c;
      continue;
    }
    query[queryLength] = '\0';
    if (strcmp(query, "STATE?") == 0) report();
    queryLength = 0;
  }
}

void setup() {
  pinMode(HOOK_PIN, INPUT_PULLUP);
  Serial.begin(9600);
  offHook = lastReading = readOffHook();
  report();
}

void loop() {
  answerQueries();
  bool reading = readOffHook();
  if (reading != lastReading) {
    lastReading = reading;
    changedAt = millis();
  }
  if (reading != offHook && millis() - changedAt >= DEBOUNCE_MS) {
    offHook = reading;
    report();
  }
  if (millis() - reportedAt >= REPEAT_MS) report();
}

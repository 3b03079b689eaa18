// Serial busy light for homebridge-presence-bridge.
//
// An RGB LED (common cathode) on pins 9 (red), 10 (green) and 11 (blue), each through a
// resistor. The bridge writes one line per presence change, as set in the output's templates:
//   RED         Busy
//   RED BLINK   DoNotDisturb
//   GREEN       Available
//   YELLOW      Away, BeRightBack
//   OFF         Offline, nothing asserted
// Unknown lines are ignored. Lines end with \n; a \r before it is ignored.
// Opening the port resets most Arduinos, so the line the bridge writes on connect is lost while
// the bootloader runs; the sketch prints READY once it listens and the bridge writes it again.

const uint8_t RED_PIN = 9;
const uint8_t GREEN_PIN = 10;
const uint8_t BLUE_PIN = 11;
const unsigned long BLINK_MS = 500;
const size_t MAX_LINE = 32;

char line[MAX_LINE + 1];
size_t length = 0;
bool overflow = false;

uint8_t red = 0, green = 0, blue = 0;
bool blink = false;

void show(bool on) {
  analogWrite(RED_PIN, on ? red : 0);
  analogWrite(GREEN_PIN, on ? green : 0);
  analogWrite(BLUE_PIN, on ? blue : 0);
}

void apply(const char *command) {
  if (strcmp(command, "RED") == 0) { red = 255; green = 0; blue = 0; blink = false; }
  else if (strcmp(command, "RED BLINK") == 0) { red = 255; green = 0; blue = 0; blink = true; }
  else if (strcmp(command, "GREEN") == 0) { red = 0; green = 255; blue = 0; blink = false; }
  else if (strcmp(command, "YELLOW") == 0) { red = 255; green = 120; blue = 0; blink = false; }
  else if (strcmp(command, "OFF") == 0) { red = 0; green = 0; blue = 0; blink = false; }
  else return;
  show(true);
}

void setup() {
  pinMode(RED_PIN, OUTPUT);
  pinMode(GREEN_PIN, OUTPUT);
  pinMode(BLUE_PIN, OUTPUT);
  Serial.begin(9600);
  show(false);
  Serial.println("READY");
}

void loop() {
  while (Serial.available() > 0) {
    char c = Serial.read();
    if (c == '\n') {
      if (!overflow) {
        if (length > 0 && line[length - 1] == '\r') length--;
        line[length] = '\0';
        apply(line);
      }
      length = 0;
      overflow = false;
    } else if (length < MAX_LINE) {
      line[length++] = c;
    } else {
      overflow = true;  // drop the whole over-long line, resume after its newline
    }
  }
  if (blink) show((millis() / BLINK_MS) % 2 == 0);
}

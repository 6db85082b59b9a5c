// Wiring only: parses the command line and hands over to the engine (filled in by the runner).
#include <cstdio>

int main() {
  std::puts("backfilld " BACKFILLD_VERSION);
  return 0;
}

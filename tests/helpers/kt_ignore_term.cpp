// kt_ignore_term [seconds]: ignores SIGTERM, prints "ready", sleeps (default 30 s), exits 0.
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
  std::signal(SIGTERM, SIG_IGN);
  int seconds = argc > 1 ? std::atoi(argv[1]) : 30;
  std::printf("ready\n");
  std::fflush(stdout);
  for (int i = 0; i < seconds * 10; ++i) ::usleep(100 * 1000);
  return 0;
}

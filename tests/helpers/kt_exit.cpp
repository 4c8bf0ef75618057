// kt_exit <code>|signal:<N> [stderr lines...]: writes the lines to stderr, then exits with <code>
// or kills itself with signal N.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc < 2) return 100;
  for (int i = 2; i < argc; ++i) std::fprintf(stderr, "%s\n", argv[i]);
  std::fflush(stderr);
  if (std::strncmp(argv[1], "signal:", 7) == 0) {
    int sig = std::atoi(argv[1] + 7);
    std::signal(sig, SIG_DFL);
    ::kill(::getpid(), sig);
    ::pause();
    return 101;
  }
  return std::atoi(argv[1]);
}

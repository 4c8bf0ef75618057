// kt_spawn_child [--ignore-term] [--leader-exits]: forks a grandchild that sleeps 30 s, prints
// "grandchild <pid>", then sleeps 30 s itself. With --ignore-term both ignore SIGTERM (only SIGKILL
// ends them); with --leader-exits the direct child exits 0 right after printing. The grandchild
// keeps stdout/stderr open, so a runner that ends only the direct child would hang.
#include <sys/types.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
  bool leader_exits = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--ignore-term") == 0) std::signal(SIGTERM, SIG_IGN);
    if (std::strcmp(argv[i], "--leader-exits") == 0) leader_exits = true;
  }
  pid_t pid = ::fork();
  if (pid < 0) return 2;
  if (pid == 0) {
    for (int i = 0; i < 300; ++i) ::usleep(100 * 1000);
    return 0;
  }
  std::printf("grandchild %d\n", static_cast<int>(pid));
  std::fflush(stdout);
  if (leader_exits) return 0;
  for (int i = 0; i < 300; ++i) ::usleep(100 * 1000);
  return 0;
}

// kt_zombie_leader [ms]: the main thread exits at once while a second thread keeps the process (and
// its open files) alive for `ms` milliseconds (default 1500), as a Go daemon looks while it shuts down.
#include <pthread.h>
#include <unistd.h>

#include <cstdlib>

namespace {
void* linger(void* arg) {
  ::usleep(static_cast<useconds_t>(*static_cast<long*>(arg)) * 1000);
  return nullptr;  // the last thread returning ends the process with status 0
}
}  // namespace

int main(int argc, char** argv) {
  static long ms = argc > 1 ? std::atol(argv[1]) : 1500;
  pthread_t t;
  pthread_create(&t, nullptr, linger, &ms);
  pthread_exit(nullptr);
}

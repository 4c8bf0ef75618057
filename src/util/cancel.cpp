#include <kurator/util/cancel.hpp>

#include <csignal>

namespace kurator::cancel {
namespace {
std::atomic<int> g_signal{0};
extern "C" void on_signal(int sig) { g_signal.store(sig); }
}  // namespace

void install_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: blocking waits return EINTR and notice the flag
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}
bool requested() { return g_signal.load() != 0; }
void set(bool value) { g_signal.store(value ? SIGINT : 0); }
int signal_number() { return g_signal.load(); }
}  // namespace kurator::cancel

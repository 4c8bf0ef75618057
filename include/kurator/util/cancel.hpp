// Process-wide interruption: SIGINT/SIGTERM set a flag that every wait and every child-process
// supervisor polls. The process runner ends its children's process groups; main exits 130.
#pragma once
#include <atomic>

namespace kurator::cancel {
// Installs the SIGINT/SIGTERM handlers (idempotent).
void install_handlers();
// True once SIGINT or SIGTERM arrived.
bool requested();
// For tests: set or clear the flag by hand.
void set(bool value);
// The signal that arrived (0 if none).
int signal_number();
}  // namespace kurator::cancel

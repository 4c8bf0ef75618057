// kt_read_stdin: copies stdin to stdout until EOF, then writes "EOF after <n> bytes" to stderr.
// kt_read_stdin --close: closes stdin at once, prints "closed" and exits 0 (the writer gets EPIPE).
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--close") == 0) {
    ::close(0);
    std::printf("closed\n");
    return 0;
  }
  char buf[65536];
  unsigned long total = 0;
  for (;;) {
    ssize_t n = ::read(0, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      std::fprintf(stderr, "read error: %s\n", std::strerror(errno));
      return 2;
    }
    if (n == 0) break;
    total += static_cast<unsigned long>(n);
    ssize_t off = 0;
    while (off < n) {
      ssize_t w = ::write(1, buf + off, static_cast<size_t>(n - off));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return 3;
      off += w;
    }
  }
  std::fprintf(stderr, "EOF after %lu bytes\n", total);
  return 0;
}

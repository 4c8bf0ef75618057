// kt_bigout <MB>: writes <MB> MiB to stdout and to stderr, interleaved in 4 KiB blocks of
// numbered 64-byte lines ("out 00000000 ....\n" / "err 00000000 ....\n"), then exits 0.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>

static void write_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::write(fd, s.data() + off, s.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) std::exit(3);
    off += static_cast<size_t>(n);
  }
}

static std::string block(const char* tag, long first_line) {
  std::string b;
  for (long i = 0; i < 64; ++i) {  // 64 lines x 64 bytes = 4 KiB
    char line[65];
    std::snprintf(line, sizeof line, "%s %08ld %-50s\n", tag, first_line + i, "abcdefghijklmnopqrstuvwxyz");
    b += line;
  }
  return b;
}

int main(int argc, char** argv) {
  long mb = argc > 1 ? std::atol(argv[1]) : 1;
  long blocks = mb * 1024 * 1024 / 4096;
  for (long i = 0; i < blocks; ++i) {
    write_all(1, block("out", i * 64));
    write_all(2, block("err", i * 64));
  }
  return 0;
}

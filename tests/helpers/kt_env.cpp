// kt_env [--cwd] [NAME...]: prints "cwd=<dir>" for --cwd and "NAME=<value>" or "NAME unset" per name.
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--cwd") == 0) {
      char dir[PATH_MAX];
      if (::getcwd(dir, sizeof dir) == nullptr) return 2;
      std::printf("cwd=%s\n", dir);
      continue;
    }
    const char* v = std::getenv(argv[i]);
    if (v != nullptr) {
      std::printf("%s=%s\n", argv[i], v);
    } else {
      std::printf("%s unset\n", argv[i]);
    }
  }
  return 0;
}

// kt_print [o:text|e:text|O:text|E:text]...: o/e write "text\n" to stdout/stderr, O/E write
// "text" without a newline. Exits 0.
#include <cstdio>

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    if (a[0] == '\0' || a[1] != ':') return 2;
    FILE* f = (a[0] == 'o' || a[0] == 'O') ? stdout : stderr;
    std::fputs(a + 2, f);
    if (a[0] == 'o' || a[0] == 'e') std::fputc('\n', f);
    std::fflush(f);
  }
  return 0;
}

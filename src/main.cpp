#include <kurator/cli/app.hpp>

#include <malloc.h>

int main(int argc, char** argv) {
  // glibc gives every thread that allocates its own arena; apply's workers and the YAML parser threads
  // would each keep one, mostly freed but still resident (4-5 MB on a CRD bundle). Two are enough.
  mallopt(M_ARENA_MAX, 2);
  return kurator::cli::run(argc, argv);
}
